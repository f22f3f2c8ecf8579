// A real redis-server for the queue tests: on a free loopback port, AOF on and no eviction (BullMQ's
// production settings), its files in a temporary folder; restartable from its AOF, killed at the end.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/** Why the tests cannot run here, or undefined when redis-server is installed. */
export function redisMissing(): string | undefined {
    const r = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
    return r.status === 0 ? undefined : `no ${REDIS_SERVER} on PATH (Debian: apt-get install redis-server)`;
}

/**
 * The start of a queue test file: where redis-server is missing the file plans nothing and exits; else a
 * temporary folder (named after `name`) and a started TestRedis, both removed at the file's teardown.
 */
export async function queueTestFixture(
    t: { plan(count: number, why: string): void; teardown(fn: () => Promise<void>): void },
    name: string,
): Promise<{ root: string; redis: TestRedis }> {
    const missing = redisMissing();
    if (missing) {
        t.plan(0, missing);
        process.exit(0);
    }
    const root = await mkdtemp(join(tmpdir(), `llavaguard-${name}-`));
    const redis = await TestRedis.start();
    t.teardown(async () => {
        await redis.stop();
        await rm(root, { recursive: true, force: true });
    });
    return { root, redis };
}

async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address() as { port: number };
            server.close(() => resolve(port));
        });
    });
}

export class TestRedis {
    readonly port: number;
    readonly dir: string;
    #child: ChildProcess | undefined;
    #log = '';

    private constructor(port: number, dir: string) {
        this.port = port;
        this.dir = dir;
    }

    static async start(): Promise<TestRedis> {
        const redis = new TestRedis(await freePort(), await mkdtemp(join(tmpdir(), 'llavaguard-redis-')));
        await redis.#spawn();
        return redis;
    }

    get url(): string {
        return `redis://127.0.0.1:${this.port}`;
    }

    get log(): string {
        return this.#log;
    }

    async #spawn(): Promise<void> {
        const child = spawn(
            REDIS_SERVER,
            [
                '--port',
                String(this.port),
                '--bind',
                '127.0.0.1',
                '--dir',
                this.dir,
                '--appendonly',
                'yes',
                '--maxmemory-policy',
                'noeviction',
                '--save',
                '',
            ],
            { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        this.#child = child;
        child.stdout!.on('data', (d) => (this.#log += d));
        child.stderr!.on('data', (d) => (this.#log += d));
        await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${this.#log}`)), 15_000);
            const onData = () => {
                if (/Ready to accept connections/.test(this.#log)) {
                    clearTimeout(timer);
                    resolve();
                }
            };
            child.stdout!.on('data', onData);
            child.once('exit', (code) => {
                clearTimeout(timer);
                reject(new Error(`redis-server exited with ${code}:\n${this.#log}`));
            });
        });
    }

    /** Kills the server (SIGKILL: no final write) and starts it again on the same port, loading its AOF. */
    async crashAndRestart(): Promise<void> {
        await this.#kill('SIGKILL');
        this.#log = '';
        await this.#spawn();
    }

    async #kill(signal: NodeJS.Signals): Promise<void> {
        const child = this.#child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill(signal);
        await exited;
    }

    async stop(): Promise<void> {
        await this.#kill('SIGKILL');
        await rm(this.dir, { recursive: true, force: true });
    }
}
