import type { Command } from 'commander';
import { formatInspect, inspectGguf } from '../../../gguf/inspect.js';
import { makeTestModel, type TinyFamily, type TinyWeightType } from '../../../gguf/synthetic/tiny-models.js';
import { parseInteger } from '../options.js';

export function registerGguf(program: Command): void {
    const gguf = program.command('gguf').description('GGUF tooling: inspect files, generate test models');
    gguf.command('inspect')
        .description('print the metadata and the tensor table of any GGUF file')
        .argument('<file>', 'a .gguf file')
        .option('--json', 'machine-readable output')
        .action(async (file: string, options: { json?: boolean }) => {
            const info = await inspectGguf(file);
            console.log(options.json ? JSON.stringify(info, null, 2) : formatInspect(info));
        });
    gguf.command('make-test-model')
        .description('write a tiny random-weight model pair (DIR/model.gguf, DIR/mmproj.gguf) for tests and demos')
        .requiredOption('--family <family>', 'llava15 (LLaMA + CLIP-like) or onevision (Qwen2 + SigLIP-like, anyres)')
        .requiredOption('--out <dir>', 'output folder')
        .option('--seed <n>', 'random seed', parseInteger('--seed', 0, 0xffffffff), 0)
        .option('--type <type>', 'weight type: f32, f16 or q8_0', 'f16')
        .action(async (options: { family: TinyFamily; out: string; seed: number; type: TinyWeightType }) => {
            if (!['llava15', 'onevision'].includes(options.family))
                throw new Error('--family must be llava15 or onevision');
            if (!['f32', 'f16', 'q8_0'].includes(options.type)) throw new Error('--type must be f32, f16 or q8_0');
            const r = await makeTestModel({
                family: options.family,
                outDir: options.out,
                seed: options.seed,
                weightType: options.type,
            });
            console.log(`wrote ${r.model} and ${r.mmproj} (${(r.bytes / 1024).toFixed(0)} KiB, random weights)`);
        });
}
