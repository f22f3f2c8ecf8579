#!/usr/bin/env node
// Extracts the llama.cpp tree that node-llama-cpp ships as a git bundle into deps/llama.cpp (ignored), then
// applies our fixes from patches/llama.cpp/ (each one says why). No network: the bundle arrives with
// `npm install`. Re-extracts when the bundle's commit or the set of patches changes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageDir } from './package-dir.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'deps', 'llama.cpp');
// LLAVAGUARD_LLAMA_BUNDLE: the bundle alone (`npx llavaguard build` takes it out of node-llama-cpp's tarball
// rather than installing node-llama-cpp and its dependencies).
const bundle = process.env.LLAVAGUARD_LLAMA_BUNDLE ?? join(packageDir('node-llama-cpp'), 'llama', 'gitRelease.bundle');

if (!existsSync(bundle)) {
    console.error(
        `llavaguard: ${bundle} is missing: node-llama-cpp@3.21.1 ships llama.cpp's source as this git bundle`,
    );
    process.exit(1);
}
const git = (args, cwd) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
try {
    git(['--version']);
} catch {
    console.error("llavaguard: git is needed to unpack llama.cpp from node-llama-cpp's bundle (apt-get install git)");
    process.exit(1);
}
const wanted = git(['bundle', 'list-heads', bundle]).split('\n')[0].split(' ')[0];
const patchDir = join(root, 'patches', 'llama.cpp');
const patches = existsSync(patchDir)
    ? readdirSync(patchDir)
          .filter((f) => f.endsWith('.patch'))
          .sort()
    : [];
const stamp = createHash('sha256').update(wanted);
for (const p of patches) stamp.update(p).update(readFileSync(join(patchDir, p)));
const wantedStamp = stamp.digest('hex');
const stampFile = join(target, '.llavaguard-stamp');
if (existsSync(join(target, '.git'))) {
    if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === wantedStamp) {
        console.log(
            `llavaguard: llama.cpp ${wanted.slice(0, 7)} (+${patches.length} patches) already in deps/llama.cpp`,
        );
        process.exit(0);
    }
    rmSync(target, { recursive: true, force: true });
}
mkdirSync(dirname(target), { recursive: true });
execFileSync('git', ['-c', 'advice.detachedHead=false', 'clone', '--quiet', bundle, target], { stdio: 'inherit' });
execFileSync('git', ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', wanted], {
    cwd: target,
    stdio: 'inherit',
});
for (const p of patches) {
    execFileSync('git', ['apply', '--whitespace=nowarn', join(patchDir, p)], { cwd: target, stdio: 'inherit' });
    console.log(`llavaguard: applied patches/llama.cpp/${p}`);
}
writeFileSync(stampFile, wantedStamp);
console.log(`llavaguard: extracted llama.cpp ${wanted.slice(0, 7)} into deps/llama.cpp`);
