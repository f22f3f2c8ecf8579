import type { Command } from 'commander';
import { LlavaGuard } from '../../guard/LlavaGuard.js';
import { CHAT_FORMAT_IDS, type ChatFormatId } from '../../chat/index.js';
import * as flags from '../model-options.js';
import { assessmentRecord, formatAssessment } from '../print-assessment.js';

interface AssessCliOptions extends flags.ModelCliOptions, flags.PolicyCliOptions, flags.SamplingCliOptions {
    chatFormat?: ChatFormatId;
    json?: boolean;
    grammar: boolean;
}

export function registerAssess(program: Command): void {
    const command = program
        .command('assess')
        .description('rate images against a safety policy; one result per image')
        .argument('<images...>', 'image files (JPEG, PNG, WebP, GIF, TIFF, AVIF, ...)');
    flags.addModelOptions(command);
    flags.addPolicyOptions(command);
    flags.addSamplingOptions(command, { maxRationaleChars: false });
    flags
        .addRuntimeOptions(command)
        .option('--chat-format <id>', `override the chat format (${CHAT_FORMAT_IDS.join(', ')})`)
        .option('--no-grammar', 'do not constrain decoding to the verdict JSON (parse the answer tolerantly)')
        .option('--json', 'one JSON line per image: {path, rating, category, rationale, ...} or {path, error}')
        .action(async (images: string[], options: AssessCliOptions) => {
            if (options.chatFormat && !CHAT_FORMAT_IDS.includes(options.chatFormat)) {
                throw new Error(`--chat-format must be one of ${CHAT_FORMAT_IDS.join(', ')}`);
            }
            const guard = await LlavaGuard.load({ ...flags.guardLoadOptions(options), chatFormat: options.chatFormat });
            try {
                const policy = await flags.policyFromOptions(options, guard.defaultPolicy);
                if (guard.modelInfo.randomWeights && !options.json) console.error(flags.RANDOM_WEIGHTS_NOTE);
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
