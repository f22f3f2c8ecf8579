// Runs risky model loads in child processes (test/helpers/hostile-load-child.ts) so that a load that aborts
// shows as a signal on that case instead of killing the test runner. Cases run in one child until one kills it;
// the rest then run in a fresh child.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LoadCase {
    name: string;
    model: string;
    mmproj?: string;
}

export interface LoadOutcome {
    /** Set when the child printed a result for this case. */
    result?: { loaded: boolean; error?: string; message?: string };
    /** Set when the child died during this case. */
    signal?: NodeJS.Signals | null;
    code?: number | null;
    /** The child's last output, for diagnosis. */
    output: string;
}

const child = join(dirname(fileURLToPath(import.meta.url)), 'hostile-load-child.ts');
// The TypeScript loader this test runs under (tap's), so that the child imports lib/ from source.
const tsLoader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));

export interface ChildOutcome {
    stdout: string;
    stderr: string;
    code: number | null;
    signal: NodeJS.Signals | null;
}

/** Runs a TypeScript test helper in a fresh node (one thread for the tiny models); a crash shows as a signal. */
export function spawnTsChild(script: string, args: string[], nodeArgs: string[] = []): Promise<ChildOutcome> {
    return new Promise((resolve, reject) => {
        const p = spawn(process.execPath, [...nodeArgs, ...tsLoader, script, ...args], {
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', LLAVAGUARD_THREADS: '1' },
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        p.on('error', reject);
        p.on('close', (code, signal) => resolve({ stdout, stderr, code, signal }));
    });
}

const runChild = (cases: LoadCase[]) => spawnTsChild(child, [JSON.stringify(cases)]);

export async function loadInChildren(cases: LoadCase[]): Promise<Map<string, LoadOutcome>> {
    const outcomes = new Map<string, LoadOutcome>();
    let rest = cases;
    while (rest.length > 0) {
        const r = await runChild(rest);
        let current: string | undefined;
        for (const line of r.stdout.split('\n')) {
            const start = /^START (\S+)$/.exec(line);
            if (start) current = start[1];
            const done = /^RESULT (\S+) (.*)$/.exec(line);
            if (done) {
                outcomes.set(done[1]!, { result: JSON.parse(done[2]!), output: '' });
                current = undefined;
            }
        }
        const tail = `${r.stderr.slice(-3000)}`;
        if (current === undefined) {
            // The child ended between cases: every case left without a result failed with it.
            for (const c of rest)
                if (!outcomes.has(c.name)) outcomes.set(c.name, { signal: r.signal, code: r.code, output: tail });
            break;
        }
        outcomes.set(current, { signal: r.signal, code: r.code, output: tail });
        rest = rest.filter((c) => !outcomes.has(c.name));
    }
    return outcomes;
}
