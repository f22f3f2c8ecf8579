// The queue's own Redis operations, each one Lua script (atomic, and spoken through BullMQ's client whatever
// its driver): defined on a client once, run by name.
import type { RedisClient } from 'bullmq';

const SCRIPTS = {
    /** KEYS: settings. ARGV: wanted JSON. Pins it unless set; returns the queue's settings JSON. */
    pinSettings: {
        keys: 1,
        lua: `if redis.call('SET', KEYS[1], ARGV[1], 'NX') then return ARGV[1] end
return redis.call('GET', KEYS[1])`,
    },
    /** KEYS: chunks set. ARGV: ids. 1 for each id already added, else 0. */
    knownChunks: { keys: 1, lua: `return redis.call('SMISMEMBER', KEYS[1], unpack(ARGV))` },
    /** KEYS: chunks set, counts hash. ARGV: id, images, id, images... Returns [new chunks, their images]. */
    markChunks: {
        keys: 2,
        lua: `local chunks, images = 0, 0
for i = 1, #ARGV, 2 do
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    chunks = chunks + 1
    images = images + tonumber(ARGV[i + 1])
  end
end
if images > 0 then redis.call('HINCRBY', KEYS[2], 'images', images) end
return { chunks, images }`,
    },
    /** KEYS: chunks set, counts hash. ARGV: images, ids... Forgets drained chunks. */
    forgetChunks: {
        keys: 2,
        lua: `for i = 2, #ARGV do redis.call('SREM', KEYS[1], ARGV[i]) end
redis.call('HINCRBY', KEYS[2], 'images', -tonumber(ARGV[1]))
return 1`,
    },
    /**
     * KEYS: results, paths, rate bucket, worker images. ARGV: content key ('' for none), its record, path field,
     * path value, worker, bucket lifetime (s). A result already there is kept; the path counts only when new.
     */
    record: {
        keys: 4,
        lua: `if ARGV[1] ~= '' then redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) end
local fresh = redis.call('HSETNX', KEYS[2], ARGV[3], ARGV[4])
if fresh == 1 then
  redis.call('HINCRBY', KEYS[3], 'all', 1)
  redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
  redis.call('EXPIRE', KEYS[3], tonumber(ARGV[6]))
  redis.call('HINCRBY', KEYS[4], ARGV[5], 1)
end
return fresh`,
    },
    /** KEYS: a hash. Its field count. */
    hashLength: { keys: 1, lua: `return redis.call('HLEN', KEYS[1])` },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const PREFIX = 'llavaguardQueue1';
const defined = new WeakSet<object>();

/** Runs one of the queue's scripts: `keys` then `args`, as the script's comment says. */
export async function runScript(
    client: RedisClient,
    name: ScriptName,
    keys: readonly string[],
    args: readonly (string | number)[] = [],
): Promise<unknown> {
    if (!defined.has(client)) {
        for (const [n, s] of Object.entries(SCRIPTS))
            client.defineCommand(`${PREFIX}_${n}`, { numberOfKeys: s.keys, lua: s.lua });
        defined.add(client);
    }
    if (keys.length !== SCRIPTS[name].keys) throw new Error(`script ${name} takes ${SCRIPTS[name].keys} keys`);
    return client.runCommand(`${PREFIX}_${name}`, [...keys, ...args.map(String)]);
}
