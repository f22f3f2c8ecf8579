// What a queue pins when its first source is added, so that every worker rates the same way: the model
// pair's digest and names, the image pipeline, the policy and the sampling. A later add must agree.
import type { RedisClient } from 'bullmq';
import type { ImagePipelineMode } from '../pipeline/types.js';
import { Policy, type PolicyJSON } from '../policy/index.js';
import type { QueueKeys } from './keys.js';
import type { ModelPairDigest } from './model-digest.js';
import { runScript } from './scripts.js';

export const QUEUE_SETTINGS_FORMAT = 'llavaguard-queue/1';

export interface QueueSampling {
    seed?: number;
    temperature?: number;
    maxTokens?: number;
    maxRationaleChars?: number;
}

export interface QueueSettings {
    format: typeof QUEUE_SETTINGS_FORMAT;
    /** The pair's digest and names (the digest minus the header, which stays with the worker). */
    model: Omit<ModelPairDigest, 'header'>;
    imagePipeline: ImagePipelineMode;
    policy: PolicyJSON;
    policyHash: string;
    sampling: QueueSampling;
    created: string;
}

export class QueueSettingsError extends Error {
    override readonly name = 'QueueSettingsError';
}

/** Pins `wanted` unless the queue already has settings; then they must match. Returns the queue's settings. */
export async function pinSettings(redis: RedisClient, keys: QueueKeys, wanted: QueueSettings): Promise<QueueSettings> {
    const pinned = parseSettings(
        String(await runScript(redis, 'pinSettings', [keys.settings], [JSON.stringify(wanted)])),
    );
    const differences = settingsDifferences(pinned, wanted);
    if (differences.length > 0)
        throw new QueueSettingsError(
            `the queue is pinned to other settings (${differences.join('; ')}): use another --queue name for another model, policy or sampling`,
        );
    return pinned;
}

export async function readSettings(redis: RedisClient, keys: QueueKeys): Promise<QueueSettings | undefined> {
    const raw = await redis.get(keys.settings);
    return raw === null ? undefined : parseSettings(raw);
}

function parseSettings(raw: string): QueueSettings {
    const s = JSON.parse(raw) as QueueSettings;
    if (s?.format !== QUEUE_SETTINGS_FORMAT)
        throw new QueueSettingsError(`the queue's settings are in an unknown format (${String(s?.format)})`);
    return s;
}

export function settingsDifferences(pinned: QueueSettings, wanted: QueueSettings): string[] {
    const out: string[] = [];
    if (pinned.model.digest !== wanted.model.digest)
        out.push(
            `model ${pinned.model.name} (${pinned.model.file}, digest ${pinned.model.digest.slice(0, 12)}) vs ${wanted.model.name} (${wanted.model.file}, digest ${wanted.model.digest.slice(0, 12)})`,
        );
    if (pinned.policyHash !== wanted.policyHash) out.push(`policy ${pinned.policyHash} vs ${wanted.policyHash}`);
    if (pinned.imagePipeline !== wanted.imagePipeline)
        out.push(`image pipeline ${pinned.imagePipeline} vs ${wanted.imagePipeline}`);
    const a = JSON.stringify(pinned.sampling);
    const b = JSON.stringify(wanted.sampling);
    if (a !== b) out.push(`sampling ${a} vs ${b}`);
    return out;
}

export const settingsPolicy = (s: QueueSettings): Policy => Policy.fromJSON(s.policy, 'the queue settings');

/** Sampling with absent values dropped, so equal settings serialise equally. */
export function normaliseSampling(s: QueueSampling): QueueSampling {
    const out: QueueSampling = {};
    for (const k of ['seed', 'temperature', 'maxTokens', 'maxRationaleChars'] as const)
        if (s[k] !== undefined) out[k] = s[k];
    return out;
}
