// The flags that assess, scan and eval share, declared once (each function adds its group where the command
// lists it, so every command's --help keeps its order), and what they turn into: load options and the policy.
import { InvalidArgumentError, type Command } from 'commander';
import type { FlashAttention } from '../bindings/AddonTypes.js';
import type { LlavaGuardLoadOptions } from '../guard/types.js';
import type { ImagePipelineMode } from '../pipeline/types.js';
import { Policy } from '../policy/index.js';
import { parseShard, type Shard } from '../scan/sources.js';
import type { GpuRequest } from '../bindings/gpu.js';
import {
    FLASH_ATTENTION_HELP,
    GPU_HELP,
    parseGpu,
    IMAGE_PIPELINE_HELP,
    collect,
    parseFlashAttention,
    parseImagePipeline,
    parseInteger,
    parseNumber,
} from './options.js';

/** The model flags that assess, scan and eval share. */
export interface ModelCliOptions {
    model: string;
    mmproj: string;
    threads?: number;
    gpu?: GpuRequest;
    gpuLayers?: number;
    imagePipeline?: ImagePipelineMode;
    encodeBatch?: number;
    flashAttention?: FlashAttention;
}

/** -m/--model and --mmproj; `required: false` where a command also runs without a model (eval --compare). */
export function addModelOptions(command: Command, { required = true } = {}): Command {
    const add = (flags: string, help: string) =>
        required ? command.requiredOption(flags, help) : command.option(flags, help);
    add('-m, --model <file>', 'text-model GGUF of a LlavaGuard model');
    return add('--mmproj <file>', 'mmproj GGUF (vision tower + projector) of the same model');
}

/** Where the model runs: -t/--threads, --gpu, --gpu-layers (also the queue worker's, whose pipeline is pinned). */
export function addDeviceOptions(command: Command): Command {
    return command
        .option('-t, --threads <n>', 'CPU threads', parseInteger('--threads', 1, 1024))
        .option('--gpu <backend>', GPU_HELP, parseGpu)
        .option(
            '--gpu-layers <n>',
            'text-model layers on the GPU (-1 = all)',
            parseInteger('--gpu-layers', -1, 100000),
        );
}

/** How the model runs: the device options, --image-pipeline, --encode-batch, --flash-attention. */
export function addRuntimeOptions(command: Command): Command {
    return addDeviceOptions(command)
        .option('--image-pipeline <mode>', IMAGE_PIPELINE_HELP, parseImagePipeline)
        .option(
            '--encode-batch <n>',
            'encoder inputs of one picture encoded as one graph (default 1; CPU only: a tower on a GPU encodes one by one)',
            parseInteger('--encode-batch', 1, 64),
        )
        .option('--flash-attention <mode>', FLASH_ATTENTION_HELP, parseFlashAttention);
}

/** The policy flags of assess and scan. */
export interface PolicyCliOptions {
    policy?: string;
    allow?: string[];
    sensitive?: string[];
}

/** -p/--policy, --allow, --sensitive. */
export function addPolicyOptions(command: Command): Command {
    return command
        .option('-p, --policy <file>', 'policy JSON (see Policy.save); default: the policy the model was trained with')
        .option('--allow <ids>', 'declare categories non-violating, e.g. O6 (repeatable, comma-separated)', collect)
        .option(
            '--sensitive <ids>',
            'declare categories strictly disallowed, e.g. O3 (repeatable, comma-separated)',
            collect,
        );
}

/** The policy the flags name: the file's, or the model's own, with --allow and --sensitive applied. */
export async function policyFromOptions(o: PolicyCliOptions, defaultPolicy: Policy): Promise<Policy> {
    let policy = o.policy ? await Policy.load(o.policy) : defaultPolicy;
    if (o.allow?.length) policy = policy.allow(...o.allow);
    if (o.sensitive?.length) policy = policy.sensitive(...o.sensitive);
    return policy;
}

/** The sampling flags. */
export interface SamplingCliOptions {
    seed?: number;
    temperature?: number;
    maxTokens?: number;
    maxRationaleChars?: number;
}

/** [--seed], --temperature, --max-tokens, [--max-rationale-chars]: eval declares its own --seed. */
export function addSamplingOptions(command: Command, { seed = true, maxRationaleChars = true } = {}): Command {
    if (seed) command.option('--seed <n>', 'sampling seed', parseInteger('--seed', 0, 0xffffffff));
    command
        .option(
            '--temperature <t>',
            'sampling temperature (default 0.2, as the reference)',
            parseNumber('--temperature', 0, 10),
        )
        .option('--max-tokens <n>', 'answer length limit (default 500)', parseInteger('--max-tokens', 1, 100000));
    if (maxRationaleChars)
        command.option(
            '--max-rationale-chars <n>',
            'bound on the rationale length',
            parseInteger('--max-rationale-chars', 1, 100000),
        );
    return command;
}

/** The --shard <i/n> parser of scan and queue add: a bad value is a usage error, not a crash. */
export const shardOption = (value: string): Shard => {
    try {
        return parseShard(value);
    } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
    }
};

export const RANDOM_WEIGHTS_NOTE =
    'note: this model has random weights (a generated test model): its verdicts mean nothing';

/** LlavaGuard.load options from the shared flags (--flash-attention sets both parts). */
export function guardLoadOptions(o: ModelCliOptions): LlavaGuardLoadOptions {
    return {
        model: o.model,
        mmproj: o.mmproj,
        threads: o.threads,
        gpu: o.gpu,
        gpuLayers: o.gpuLayers,
        imagePipeline: o.imagePipeline,
        encodeBatch: o.encodeBatch,
        flashAttention: o.flashAttention,
        mmprojFlashAttention: o.flashAttention,
    };
}

/**
 * First Ctrl-C aborts `controller` (the run stops cleanly and keeps what it wrote), the second quits at once.
 * Returns the function that removes the handler.
 */
export function abortOnFirstInterrupt(controller: AbortController, message: string): () => void {
    const onSigint = () => {
        controller.abort();
        process.stderr.write(`\ninterrupted: ${message} (Ctrl-C again to quit at once)\n`);
        process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', onSigint);
    return () => process.off('SIGINT', onSigint);
}
