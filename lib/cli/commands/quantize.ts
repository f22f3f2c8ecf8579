import type { Command } from 'commander';
import { QUANTIZE_TYPES, quantizeModel, type QuantizeType } from '../../tools/quantize.js';
import { parseInteger } from '../options.js';

export function registerQuantize(program: Command): void {
    program
        .command('quantize')
        .description("quantize a text-model GGUF with llama.cpp's own quantizer (keep the mmproj in F16)")
        .argument('<in>', 'input GGUF (e.g. model-f16.gguf from `llavaguard convert`)')
        .argument('<out>', 'output GGUF')
        .requiredOption('--type <type>', `quantization: ${QUANTIZE_TYPES.join(', ')}`)
        .option('-t, --threads <n>', 'threads', parseInteger('--threads', 1, 1024))
        .action(async (input: string, output: string, options: { type: QuantizeType; threads?: number }) => {
            if (!QUANTIZE_TYPES.includes(options.type))
                throw new Error(`--type must be one of ${QUANTIZE_TYPES.join(', ')}`);
            const started = Date.now();
            await quantizeModel(input, output, options.type, options.threads);
            console.log(`wrote ${output} (${options.type}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
        });
}
