// The llavaguard CLI in a child process for the queue tests: from dist/ when it is newer than the sources it
// runs (`npx tsc -p tsconfig.json`), else through tap's TypeScript loader (slower to start).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
const sources = [
    join(repo, 'lib', 'cli', 'main.ts'),
    join(repo, 'lib', 'cli', 'commands', 'queue.ts'),
    join(repo, 'lib', 'cli', 'commands', 'worker.ts'),
    ...['queue', 'scan'].flatMap((dir) =>
        readdirSync(join(repo, 'lib', dir))
            .filter((f) => f.endsWith('.ts'))
            .map((f) => join(repo, 'lib', dir, f)),
    ),
];
const compiled = (src: string) => src.replace(repo, join(repo, 'dist')).replace(/\.ts$/, '.js');
const distFresh = sources.every((s) => existsSync(compiled(s)) && statSync(compiled(s)).mtimeMs >= statSync(s).mtimeMs);
// tap passes --import=URL; `node --import @tapjs/typescript/import` (the bench scripts) passes two arguments
const tsLoader = process.execArgv.flatMap((a, i, all) =>
    a.includes('@tapjs/typescript') ? (a.startsWith('--') ? [a] : [all[i - 1]!, a]) : [],
);
const entry = distFresh || tsLoader.length === 0 ? compiled(sources[0]!) : sources[0]!;
const loaderArgs = entry.endsWith('.ts') ? tsLoader : [];

export const cliEntry = entry;

/** `llavaguard worker` on `queue` of the Redis at `redis` with the model pair, then the caller's flags. */
export function workerArgs(
    redis: string,
    queue: string,
    pair: { model: string; mmproj: string },
    ...flags: string[]
): string[] {
    return ['worker', '--redis', redis, '--queue', queue, '-m', pair.model, '--mmproj', pair.mmproj, ...flags];
}

export interface CliRun {
    child: ChildProcess;
    /** Resolves when the process exits. */
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
    output: () => string;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
    const child = spawn(process.execPath, [...loaderArgs, entry, ...args], {
        env: { ...process.env, LLAVAGUARD_THREADS: '1', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
        (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
    return { child, exited, output: () => stdout + stderr };
}
