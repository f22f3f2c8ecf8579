import { readFileSync } from 'node:fs';

export function packageVersion(): string {
    const url = new URL('../../../package.json', import.meta.url);
    try {
        return JSON.parse(readFileSync(url, 'utf8')).version;
    } catch {
        return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
    }
}
