// What the install left on disk: sizes (du), folders by name, and what an ELF file asks of the loader (readelf).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mb } from './settings.mjs';

/** du -sb over the given paths together: a file hard-linked twice (pnpm's store) is counted once. */
export function diskBytes(...paths) {
    const out = execFileSync('du', ['-sbc', ...paths], { encoding: 'utf8' });
    return Number(out.trim().split('\n').at(-1).split('\t')[0]);
}

/** The largest packages of a node_modules folder (npm's flat layout or pnpm's .pnpm), for the report. */
export function largestPackages(nodeModules, count = 6) {
    const dirs = [];
    const pnpm = join(nodeModules, '.pnpm');
    const base = existsSync(pnpm) ? pnpm : nodeModules;
    for (const { name: entry } of readdirSync(base, { withFileTypes: true }).filter((e) => e.isDirectory())) {
        if (entry.startsWith('.') || entry === 'node_modules') continue;
        if (entry.startsWith('@') && base === nodeModules)
            for (const sub of readdirSync(join(base, entry))) dirs.push(join(base, entry, sub));
        else dirs.push(join(base, entry));
    }
    if (dirs.length === 0) return [];
    const out = execFileSync('du', ['-sb', ...dirs], { encoding: 'utf8' });
    return out
        .trim()
        .split('\n')
        .map((line) => {
            const [bytes, path] = line.split('\t');
            return { name: path.slice(base.length + 1), mb: mb(Number(bytes)) };
        })
        .sort((a, b) => b.mb - a.mb)
        .slice(0, count);
}

/** Every folder below `dir` (symlinks not followed) whose name matches. */
export function findDirs(dir, match, found = []) {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const path = join(dir, entry.name);
        if (match(path)) found.push(path);
        findDirs(path, match, found);
    }
    return found;
}

/** RUNPATH / RPATH entries of an ELF file, from readelf -d. */
export function runpath(file) {
    const out = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
    return [...out.matchAll(/\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*)\]/g)].flatMap((m) => m[1].split(':'));
}

/** The libraries an ELF file needs (NEEDED entries, from readelf -d). */
export function neededLibraries(file) {
    const out = execFileSync('readelf', ['-d', file], { encoding: 'utf8' });
    return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]);
}

/** Absolute paths of the build tree left in the addon (__FILE__ of assertions): reported, not fatal. */
export function buildPathStrings(file) {
    const text = readFileSync(file, 'latin1');
    const found = new Set();
    for (const m of text.matchAll(/\/(?:[\w.+-]+\/)+[\w.+-]+\.(?:c|cc|cpp|h|hpp)(?=\0)/g)) found.add(m[0]);
    return [...found];
}
