import type { Command } from 'commander';
import { LlavaGuard } from '../../guard/LlavaGuard.js';
import { CHAT_FORMAT_IDS, type ChatFormatId } from '../../chat/index.js';
import { Policy } from '../../policy/index.js';
import { guardLoadOptions, type ModelCliOptions } from '../model-options.js';
import {
    collect,
    parseInteger,
    parseNumber,
    IMAGE_PIPELINE_HELP,
    parseImagePipeline,
    FLASH_ATTENTION_HELP,
    parseFlashAttention,
} from '../options.js';
import { assessmentRecord, formatAssessment } from '../print-assessment.js';

interface AssessCliOptions extends ModelCliOptions {
    policy?: string;
    allow?: string[];
    sensitive?: string[];
    seed?: number;
    temperature?: number;
    maxTokens?: number;
    chatFormat?: ChatFormatId;
    json?: boolean;
    grammar: boolean;
}

export function registerAssess(program: Command): void {
    program
        .command('assess')
        .description('rate images against a safety policy; one result per image')
        .argument('<images...>', 'image files (JPEG, PNG, WebP, GIF, TIFF, AVIF, ...)')
        .requiredOption('-m, --model <file>', 'text-model GGUF of a LlavaGuard model')
        .requiredOption('--mmproj <file>', 'mmproj GGUF (vision tower + projector) of the same model')
        .option('-p, --policy <file>', 'policy JSON (see Policy.save); default: the policy the model was trained with')
        .option('--allow <ids>', 'declare categories non-violating, e.g. O6 (repeatable, comma-separated)', collect)
        .option(
            '--sensitive <ids>',
            'declare categories strictly disallowed, e.g. O3 (repeatable, comma-separated)',
            collect,
        )
        .option('--seed <n>', 'sampling seed', parseInteger('--seed', 0, 0xffffffff))
        .option(
            '--temperature <t>',
            'sampling temperature (default 0.2, as the reference)',
            parseNumber('--temperature', 0, 10),
        )
        .option('--max-tokens <n>', 'answer length limit (default 500)', parseInteger('--max-tokens', 1, 100000))
        .option('-t, --threads <n>', 'CPU threads', parseInteger('--threads', 1, 1024))
        .option('--gpu-layers <n>', 'text-model layers on the GPU (-1 = all)', parseInteger('--gpu-layers', -1, 100000))
        .option('--image-pipeline <mode>', IMAGE_PIPELINE_HELP, parseImagePipeline)
        .option('--flash-attention <mode>', FLASH_ATTENTION_HELP, parseFlashAttention)
        .option('--chat-format <id>', `override the chat format (${CHAT_FORMAT_IDS.join(', ')})`)
        .option('--no-grammar', 'do not constrain decoding to the verdict JSON (parse the answer tolerantly)')
        .option('--json', 'one JSON line per image: {path, rating, category, rationale, ...} or {path, error}')
        .action(async (images: string[], options: AssessCliOptions) => {
            if (options.chatFormat && !CHAT_FORMAT_IDS.includes(options.chatFormat)) {
                throw new Error(`--chat-format must be one of ${CHAT_FORMAT_IDS.join(', ')}`);
            }
            const guard = await LlavaGuard.load({ ...guardLoadOptions(options), chatFormat: options.chatFormat });
            try {
                let policy = options.policy ? await Policy.load(options.policy) : guard.defaultPolicy;
                if (options.allow?.length) policy = policy.allow(...options.allow);
                if (options.sensitive?.length) policy = policy.sensitive(...options.sensitive);
                if (guard.modelInfo.randomWeights && !options.json) {
                    console.error(
                        'note: this model has random weights (a generated test model): its verdicts mean nothing',
                    );
                }
                let failed = 0;
                for (const path of images) {
                    try {
                        const a = await guard.assess(path, {
                            policy,
                            seed: options.seed,
                            temperature: options.temperature,
                            maxTokens: options.maxTokens,
                            grammar: options.grammar,
                        });
                        console.log(
                            options.json ? JSON.stringify(assessmentRecord(path, a)) : formatAssessment(path, a),
                        );
                    } catch (error) {
                        failed++;
                        const message = (error as Error).message;
                        if (options.json) console.log(JSON.stringify({ path, error: message }));
                        else console.error(`error   ${path}: ${message}`);
                    }
                }
                if (failed > 0) process.exitCode = 2;
            } finally {
                await guard.close();
            }
        });
}
