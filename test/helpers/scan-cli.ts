// The scan command in a child process, as main.ts runs it (commander + registerScan): from dist/ when it is
// newer than the sources (`npx tsc -p tsconfig.json`; starts in ~1 s), else through tap's TypeScript loader (~8 s).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
const scanSources = [
    join(repo, 'lib', 'cli', 'commands', 'scan.ts'),
    ...readdirSync(join(repo, 'lib', 'scan')).map((f) => join(repo, 'lib', 'scan', f)),
];
const compiled = (src: string) => src.replace(repo, join(repo, 'dist')).replace(/\.ts$/, '.js');
const distFresh = scanSources.every(
    (src) => existsSync(compiled(src)) && statSync(compiled(src)).mtimeMs >= statSync(src).mtimeMs,
);
const tsLoader = distFresh ? [] : process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
/** The scan command's module the child imports: compiled, or the source under the TypeScript loader. */
export const scanModule = distFresh || !tsLoader.length ? compiled(scanSources[0]) : scanSources[0];

/** Writes the child's entry point (a commander program with only `scan`) into dir; returns a starter. */
export async function scanCli(dir: string) {
    const entry = join(dir, 'cli.mjs');
    await writeFile(
        entry,
        [
            "import { createRequire } from 'node:module';",
            "const { Command } = createRequire(process.env.SCAN_MODULE)('commander');",
            'const { registerScan } = await import(process.env.SCAN_MODULE);',
            "const program = new Command('llavaguard');",
            'registerScan(program);',
            'await program.parseAsync(process.argv);',
        ].join('\n'),
    );
    return function startCli(args: string[]) {
        const child = spawn(process.execPath, [...tsLoader, entry, 'scan', ...args], {
            env: { ...process.env, SCAN_MODULE: scanModule },
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout!.on('data', (d) => (stdout += d));
        child.stderr!.on('data', (d) => (stderr += d));
        const exited = new Promise<{
            code: number | null;
            signal: NodeJS.Signals | null;
            stdout: string;
            stderr: string;
        }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
        return { child, exited };
    };
}

/** How many whole lines the file holds (0 while it does not exist). */
export async function linesIn(file: string) {
    try {
        return (await readFile(file, 'utf8')).split('\n').length - 1;
    } catch {
        return 0;
    }
}

/** Waits until the file holds n lines; throws when the child ends first or a minute passes. */
export async function waitForLines(file: string, n: number, child: ChildProcess) {
    const deadline = Date.now() + 60_000;
    while ((await linesIn(file)) < n) {
        if (child.exitCode !== null || Date.now() > deadline)
            throw new Error(`the scan ended or stalled before ${n} records`);
        await new Promise((r) => setTimeout(r, 25));
    }
}
