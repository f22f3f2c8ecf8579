import type { Command } from 'commander';
import { OUT_TYPES, convertHfModel, type OutType } from '../../../gguf/convert/index.js';

export function registerConvert(program: Command): void {
    program
        .command('convert')
        .description(
            'convert a Hugging Face LlavaGuard / LLaVA folder (LLaVA-1.5 or LLaVA-OneVision, safetensors) into a GGUF text model + mmproj',
        )
        .argument('<hf-dir>', 'folder with config.json, *.safetensors and the tokenizer files')
        .requiredOption('--out <dir>', 'output folder: model-<type>.gguf and mmproj-<type>.gguf (or vocab.gguf)')
        .option('--type <type>', 'weight type: f16, q8_0 or f32', 'f16')
        .option('--vocab-only', 'write only the tokenizer (and the hyperparameters) as vocab.gguf')
        .option('--name <name>', 'general.name (default: from config.json or the folder name)')
        .option('--quiet', 'no progress lines')
        .action(
            async (
                dir: string,
                options: { out: string; type: string; vocabOnly?: boolean; name?: string; quiet?: boolean },
            ) => {
                if (!OUT_TYPES.includes(options.type as OutType))
                    throw new Error(`--type must be one of ${OUT_TYPES.join(', ')}`);
                const log = options.quiet ? undefined : (line: string) => console.error(line);
                const r = await convertHfModel({
                    dir,
                    outDir: options.out,
                    type: options.type as OutType,
                    vocabOnly: options.vocabOnly,
                    name: options.name,
                    log,
                });
                const version = r.llavaguardVersion ? `, LlavaGuard v${r.llavaguardVersion}` : '';
                console.log(
                    `${r.hfArch} (${r.textArch}${version}): wrote ${r.model}${r.mmproj ? ` and ${r.mmproj}` : ''} (${(r.bytes / 2 ** 20).toFixed(1)} MiB)`,
                );
            },
        );
}
