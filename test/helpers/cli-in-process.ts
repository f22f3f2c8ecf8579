// A CLI command run in-process on a fresh commander program, as `llavaguard` (lib/cli/main.ts) builds it, with
// console output and commander's own output (help, errors) captured.
import { Command } from 'commander';

export interface CliResult {
    stdout: string;
    stderr: string;
    error: Error | null;
}

/** Runs args (without `node llavaguard`) on a program with one command registered by register. */
export async function runCommand(register: (program: Command) => void, args: string[]): Promise<CliResult> {
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command('llavaguard')
        .exitOverride()
        .showHelpAfterError()
        .configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
    register(program);
    const log = console.log;
    const error = console.error;
    console.log = (...a: unknown[]) => out.push(`${a.join(' ')}\n`);
    console.error = (...a: unknown[]) => err.push(`${a.join(' ')}\n`);
    try {
        await program.parseAsync(args, { from: 'user' });
        return { stdout: out.join(''), stderr: err.join(''), error: null };
    } catch (e) {
        return { stdout: out.join(''), stderr: err.join(''), error: e as Error };
    } finally {
        console.log = log;
        console.error = error;
    }
}
