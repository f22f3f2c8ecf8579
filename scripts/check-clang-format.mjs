#!/usr/bin/env node
// clang-format over native/ (config: .clang-format): checks, or rewrites with --fix.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = readdirSync(join(root, 'native'), { recursive: true })
    .filter((f) => /\.(cpp|h)$/.test(f))
    .map((f) => join('native', f));
const args = process.argv.includes('--fix') ? ['-i'] : ['--dry-run', '--Werror'];
try {
    execFileSync('clang-format', ['--version'], { stdio: 'ignore' });
} catch {
    console.error('clang-format is not installed (Debian: apt-get install clang-format)');
    process.exit(1);
}
try {
    execFileSync('clang-format', [...args, ...files], { cwd: root, stdio: 'inherit' });
    console.log(`clang-format: ${files.length} files ${args[0] === '-i' ? 'formatted' : 'formatted as configured'}`);
} catch {
    console.error('clang-format: files above differ from .clang-format (npm run format fixes them)');
    process.exit(1);
}
