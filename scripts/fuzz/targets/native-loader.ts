// A persistent child process (load-child.ts) that loads model pairs with the native addon, one at a time: the
// fuzzer's view of "would llama.cpp survive this file". A child that dies (signal, exit) or hangs is reported
// with its output and replaced by a fresh one on the next load.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GgufHeader } from '../../../gguf/types.js';

export interface NativeOutcome {
    /** Set when the pair loaded and ran, or was refused with an error. */
    result?: { loaded: boolean; error?: string; message?: string };
    /** How the child ended during this load (e.g. "killed the loader with SIGABRT"), when it did. */
    died?: string;
    output: string;
}

const fromSource = import.meta.url.endsWith('.ts');
const childScript = fileURLToPath(new URL(`./load-child.${fromSource ? 'ts' : 'js'}`, import.meta.url));
// Run from TypeScript (the regression test), the child needs the same TypeScript loader.
const loaderArgs = fromSource ? process.execArgv.filter((a) => a.includes('typescript') || a === '--import') : [];

export class NativeLoader {
    #child: ChildProcessWithoutNullStreams | undefined;
    #stdout = '';
    #stderr = '';
    #waiting: ((line: string | undefined) => void) | undefined;
    #exit: string | undefined;

    constructor(private readonly timeoutMs = 60_000) {}

    #start(): ChildProcessWithoutNullStreams {
        const child = spawn(process.execPath, [...tsImportArgs(loaderArgs), childScript], {
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', LLAVAGUARD_THREADS: '1' },
            stdio: ['pipe', 'pipe', 'pipe'],
        });
        this.#stdout = '';
        this.#stderr = '';
        this.#exit = undefined;
        child.stdout.on('data', (d) => {
            this.#stdout += d;
            const nl = this.#stdout.indexOf('\n');
            if (nl >= 0 && this.#waiting) {
                const line = this.#stdout.slice(0, nl);
                this.#stdout = this.#stdout.slice(nl + 1);
                this.#waiting(line);
            }
        });
        child.stderr.on('data', (d) => {
            this.#stderr = (this.#stderr + d).slice(-4000);
        });
        child.on('exit', (code, signal) => {
            this.#exit = signal ? `killed the loader with ${signal}` : `made the loader exit with code ${code}`;
            this.#child = undefined;
            this.#waiting?.(undefined);
        });
        child.unref();
        (child.stdout as unknown as { unref?: () => void }).unref?.();
        (child.stderr as unknown as { unref?: () => void }).unref?.();
        (child.stdin as unknown as { unref?: () => void }).unref?.();
        return child;
    }

    async load(model: string, mmproj: string): Promise<NativeOutcome> {
        const child = this.#child ?? this.#start();
        this.#child = child;
        const line = await new Promise<string | undefined>((resolve) => {
            const timer = setTimeout(() => {
                this.#exit = `hung for ${this.timeoutMs} ms`;
                child.kill('SIGKILL');
            }, this.timeoutMs);
            this.#waiting = (l) => {
                clearTimeout(timer);
                this.#waiting = undefined;
                resolve(l);
            };
            child.stdin.write(`${JSON.stringify({ model, mmproj })}\n`);
        });
        if (line === undefined) return { died: this.#exit, output: this.#stderr };
        return { result: JSON.parse(line), output: '' };
    }

    close(): void {
        this.#child?.stdin.end();
        this.#child = undefined;
    }
}

/** execArgv like ['--import', '@tapjs/typescript/import'] kept as pairs. */
function tsImportArgs(args: string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
        if (args[i] === '--import' && args[i + 1]?.includes('typescript')) out.push('--import', args[++i]!);
        else if (args[i]!.includes('typescript')) out.push(args[i]!);
    }
    return out;
}

const loader = new NativeLoader();
/** Hyper-parameters and shapes already loaded natively: a header that differs only elsewhere is not loaded again. */
const loadedSignatures = new Set<string>();
/** Native loads of accepted files, for the run's log: how many ran and how many llama.cpp refused cleanly. */
const counts = { ran: 0, refused: 0 };
process.on('exit', () => {
    if (counts.ran + counts.refused === 0) return;
    console.error(
        `native loads of accepted files: ${counts.ran + counts.refused} (${counts.ran} ran, ${counts.refused} refused by llama.cpp with an error)`,
    );
});

/**
 * Loads an accepted pair in the child unless a pair with the same signature was loaded before; throws (a
 * finding) when the load kills or hangs the child.
 */
export async function loadNatively(signature: string, model: string, mmproj: string, what: string): Promise<void> {
    if (loadedSignatures.has(signature)) return;
    loadedSignatures.add(signature);
    const outcome = await loader.load(model, mmproj);
    if (outcome.died) throw new Error(`the checks accepted a ${what} that ${outcome.died}:\n${outcome.output}`);
    if (outcome.result?.loaded) counts.ran++;
    else counts.refused++;
}

/** Ends the loader child (the regression test's teardown; a fuzzing process just exits). */
export function closeNativeLoader(): void {
    loader.close();
}

/** What llama.cpp's asserts can depend on: scalar keys, array lengths, tensor names, shapes and types. */
export function headerSignature(h: GgufHeader): string {
    const kv = [...h.metadata].map(([k, v]) =>
        v.type === 9
            ? `${k}:a${v.elemType}x${v.length}${k.startsWith('tokenizer.') ? '' : `=${v.value.join(',')}`}`
            : `${k}=${String(v.value)}`,
    );
    const tensors = h.tensors.map((t) => `${t.name}:${t.type}:${t.dims.join('x')}`);
    return [...kv, ...tensors].join('\n');
}
