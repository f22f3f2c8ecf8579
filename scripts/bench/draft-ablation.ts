// Decode-only ablation of the verdict grammars and drafts, in one process: the bench pair's prompt (image + v1.2
// policy) is prefilled once, then each round generates the full verdict and `rationale: false` from that kept
// prefix with the layout in the model's own tokens (LlavaGuard's default, layoutTokens 'canonical') and with the
// character grammar (layoutTokens 'any'), the latter with and without drafts (greedy; flash attention off, as in
// the bench's matched runs). Prints tokens, forward passes, forced and draft tokens, and decode time per generation.
//
//   node --import @tapjs/typescript/import scripts/bench/draft-ablation.ts [pair dir] [rounds]
import os from 'node:os';
import path from 'node:path';

import { ONEVISION_QWEN } from '../../lib/chat/index.js';
import { GuardRecipes } from '../../lib/guard/recipe.js';
import { VisionModel } from '../../lib/runtime/VisionModel.js';
import { loadImage } from '../../lib/image/index.js';
import { Policy } from '../../lib/policy/index.js';

const models = path.join(os.tmpdir(), 'llavaguard-bench-models');
const dir = process.argv[2] ?? path.join(models, 'llavaguard-v1.2-0.5b-q8_0');
const rounds = Number(process.argv[3] ?? 3);
await using model = await VisionModel.load({
    model: path.join(dir, 'model.gguf'),
    mmproj: path.join(dir, 'mmproj.gguf'),
    mmprojFlashAttention: 'off',
});
await using ctx = await model.createContext({ flashAttention: 'off' });
// The grammars, drafts and prompt pieces exactly as LlavaGuard builds them for this policy.
const recipe = new GuardRecipes({
    tokenizer: model,
    format: ONEVISION_QWEN,
    imageMarker: model.info.mediaMarker,
}).for(Policy.default('v1.2'));
// The kept prefix ends with the user turn; each generation adds the assistant header and decodes.
const { imagePrefix, userText, assistantPrefix } = recipe.prompt;
const img = await loadImage(path.join(models, 'bench-photo-384.png'));
const prefix = await ctx.evaluate({
    prompt: { text: imagePrefix + userText, images: [{ data: img.data, width: img.width, height: img.height }] },
});
const full = { maxRationaleChars: 160 };
const short = { rationale: false };
const settings = [
    ['full verdict, model tokens', recipe.grammar(full), undefined],
    ['rationale: false, model tokens', recipe.grammar(short), undefined],
    ['full verdict, characters, drafts', recipe.grammar({ ...full, layoutTokens: 'any' }), recipe.drafts(true)],
    ['full verdict, characters, no drafts', recipe.grammar({ ...full, layoutTokens: 'any' }), undefined],
    ['rationale: false, characters, drafts', recipe.grammar({ ...short, layoutTokens: 'any' }), recipe.drafts(false)],
    ['rationale: false, characters, no drafts', recipe.grammar({ ...short, layoutTokens: 'any' }), undefined],
] as const;
console.log('| round | setting | tokens | forward passes | forced | draft tokens confirmed / proposed | decode (ms) |');
console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
for (let round = 0; round < rounds; round++) {
    for (const [name, grammar, drafts] of settings) {
        const r = await ctx.generate({
            prompt: { text: assistantPrefix },
            keepPrefix: prefix.nPast,
            grammar,
            temperature: 0,
            maxTokens: 512,
            ...(drafts ? { drafts } : {}),
        });
        console.log(
            `| ${round} | ${name} | ${r.tokens.length} | ${r.forwardPasses.decode} | ${r.forcedTokens} | ${r.draftTokens.accepted} / ${r.draftTokens.proposed} | ${r.timings.decodeMs.toFixed(0)} |`,
        );
    }
}
