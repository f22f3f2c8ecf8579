// The folder of an installed package, found from its main entry (its package.json may not be exported).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function packageDir(name, from = import.meta.url) {
    let dir = dirname(createRequire(from).resolve(name));
    while (dir !== dirname(dir)) {
        const pkg = join(dir, 'package.json');
        if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === name) return dir;
        dir = dirname(dir);
    }
    throw new Error(`cannot find the folder of package ${name}`);
}
