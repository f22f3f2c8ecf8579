import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { VisionModel } from '../../runtime/VisionModel.js';

export function registerTokenize(program: Command): void {
    program
        .command('tokenize')
        .description("print llama.cpp's token ids: one JSON array per input line; stdin lines are JSON strings")
        .requiredOption('-m, --model <file>', 'a GGUF with a tokenizer (a model, or `convert --vocab-only` output)')
        .option('--add-special', 'add BOS etc. as the tokenizer does for a whole prompt')
        .option('--parse-special', 'read special-token text such as <|im_start|> as those tokens')
        .action(async (options: { model: string; addSpecial?: boolean; parseSpecial?: boolean }) => {
            const model = await VisionModel.load({ model: options.model, vocabOnly: true });
            try {
                let line = 0;
                for await (const raw of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
                    line++;
                    if (raw.trim() === '') continue;
                    let text: unknown;
                    try {
                        text = JSON.parse(raw);
                    } catch {
                        throw new Error(`stdin line ${line} is not JSON (each line must be a JSON string)`);
                    }
                    if (typeof text !== 'string') throw new Error(`stdin line ${line} is not a JSON string`);
                    const ids = model.tokenize(text, {
                        addSpecial: options.addSpecial ?? false,
                        parseSpecial: options.parseSpecial ?? false,
                    });
                    process.stdout.write(`${JSON.stringify([...ids])}\n`);
                }
            } finally {
                await model.close();
            }
        });
}
