#!/usr/bin/env node
// Packs the main package and the platform packages (npm/<folder>) into tarballs, as they would be published:
//   node scripts/packages/pack.mjs [--out DIR] [--addon build/Release/llavaguard.node]
// The addon must come from the prebuilt route (scripts/build-native.mjs without LLAVAGUARD_FROM_SOURCE): a
// from-source build is compiled for this machine's CPU and cannot be shipped. Prints the tarballs as JSON.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values } = parseArgs({
    options: {
        out: { type: 'string', default: join(root, 'packages-out') },
        addon: { type: 'string', default: join(root, 'build', 'Release', 'llavaguard.node') },
    },
});
const out = resolve(values.out);
const addon = resolve(values.addon);
const manifestFile = join(dirname(addon), 'llavaguard-build.json');
const manifest = existsSync(manifestFile) ? JSON.parse(readFileSync(manifestFile, 'utf8')) : null;
if (manifest?.llama !== 'prebuilt') {
    console.error(`pack: ${addon} is not a prebuilt-route build (${manifestFile}: ${JSON.stringify(manifest)})`);
    process.exit(1);
}

const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const folders = readdirSync(join(root, 'npm')).filter((f) => existsSync(join(root, 'npm', f, 'package.json')));
for (const f of folders) {
    const pkg = JSON.parse(readFileSync(join(root, 'npm', f, 'package.json'), 'utf8'));
    if (pkg.version !== version) {
        console.error(`pack: npm/${f} is at ${pkg.version}, the main package at ${version}`);
        process.exit(1);
    }
    copyFileSync(join(root, 'NOTICE'), join(root, 'npm', f, 'NOTICE'));
}
copyFileSync(addon, join(root, 'npm', 'linux-x64', 'llavaguard.node'));

execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
    cwd: root,
    stdio: 'inherit',
});
mkdirSync(out, { recursive: true });
const packed = [];
for (const dir of [root, ...folders.map((f) => join(root, 'npm', f))]) {
    // --ignore-scripts: `prepare` would rebuild the addon; what ships is what was built and tested.
    const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
        cwd: dir,
        encoding: 'utf8',
    });
    const [info] = JSON.parse(json);
    const file = join(out, info.filename);
    packed.push({ name: info.name, version: info.version, file, bytes: statSync(file).size, files: info.entryCount });
}
console.log(JSON.stringify(packed, null, 2));
