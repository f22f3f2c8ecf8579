// The install test's checks (each recorded, printed, and fatal where later steps depend on it) and its child
// processes (each in its own process group with a deadline, all stopped at the end).
import { spawn } from 'node:child_process';
import { MINUTE, tail } from './settings.mjs';

export const checks = [];
const children = new Set();

/** Thrown by a failed fatal check: the steps that depend on it are skipped. */
export class Skip extends Error {}

/** Records one check; a failed check throws when later steps depend on it (`fatal`). */
export async function check(name, fn, { fatal = false } = {}) {
    try {
        const detail = await fn();
        checks.push({ name, ok: true, detail: detail ?? '' });
        console.log(`ok    ${name}${detail ? `: ${detail}` : ''}`);
        return true;
    } catch (error) {
        checks.push({ name, ok: false, detail: error.message });
        console.log(`FAIL  ${name}\n${error.message.replace(/^/gm, '      ')}`);
        if (fatal) throw new Skip(name);
        return false;
    }
}

/** Runs a step, going on past a Skip (a fatal check of that step failed). */
export async function unlessSkipped(step) {
    try {
        await step();
    } catch (error) {
        if (!(error instanceof Skip)) throw error;
    }
}

export function assert(condition, message) {
    if (!condition) throw new Error(message);
}

/** Starts a long-lived child in its own process group (stopped by stopChildren). */
export function spawnChild(command, argv, options) {
    const child = spawn(command, argv, { ...options, detached: true });
    children.add(child);
    return child;
}

/** Runs a command in its own process group with a deadline; resolves with its output, throws on failure. */
export function run(command, argv, { cwd, env, timeoutMs = 10 * MINUTE, allowFail = false } = {}) {
    return new Promise((resolvePromise, reject) => {
        const started = performance.now();
        const child = spawnChild(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => {
            stdout += d;
        });
        child.stderr.on('data', (d) => {
            stderr += d;
        });
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            killGroup(child, 'SIGKILL');
        }, timeoutMs);
        child.on('error', (error) => {
            clearTimeout(timer);
            children.delete(child);
            reject(new Error(`${command}: ${error.message}`));
        });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            children.delete(child);
            const result = { code, stdout, stderr, ms: performance.now() - started };
            const shown = `${command} ${argv.join(' ')}`;
            if (timedOut)
                reject(new Error(`${shown}: no result after ${timeoutMs / 1000} s\n${tail(stdout + stderr)}`));
            else if (code !== 0 && !allowFail)
                reject(new Error(`${shown}: exit ${code ?? signal}\n${tail(`${stdout}\n${stderr}`)}`));
            else resolvePromise(result);
        });
    });
}

function killGroup(child, signal) {
    try {
        process.kill(-child.pid, signal);
    } catch {
        // already gone
    }
}

/** SIGTERM to every child still running, SIGKILL to those not gone 5 s later. */
export async function stopChildren() {
    await Promise.all(
        [...children].map(async (child) => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = new Promise((r) => child.once('exit', () => r(true)));
            killGroup(child, 'SIGTERM');
            if (!(await Promise.race([exited, new Promise((r) => setTimeout(() => r(false), 5000))])))
                killGroup(child, 'SIGKILL');
        }),
    );
    children.clear();
}
