// Decode-only ablation of the verdict grammars and drafts, in one process: the bench pair's prompt (image + v1.2
// policy) is prefilled once, then each round generates the full verdict and `rationale: false` from that kept
// prefix with the layout in the model's own tokens (LlavaGuard's default, layoutTokens 'canonical') and with the
// character grammar (layoutTokens 'any'), the latter with and without drafts (greedy; flash attention off, as in
// the bench's matched runs). Prints tokens, forward passes, forced and draft tokens, and decode time per generation.
//
//   node --import @tapjs/typescript/import scripts/bench/draft-ablation.ts [pair dir] [rounds]
import os from 'node:os';
import path from 'node:path';

import { MTMD_MEDIA_MARKER, ONEVISION_QWEN } from '../../lib/chat/index.js';
import { answerTokenizer } from '../../lib/guard/answer-tokenizer.js';
import { VisionModel } from '../../lib/runtime/VisionModel.js';
import { loadImage } from '../../lib/image/index.js';
import { Policy } from '../../lib/policy/index.js';
import { buildVerdictGrammar, buildVerdictTokenGrammar, verdictDrafts } from '../../lib/verdict/index.js';

const models = path.join(os.tmpdir(), 'llavaguard-bench-models');
const dir = process.argv[2] ?? path.join(models, 'llavaguard-v1.2-0.5b-q8_0');
const rounds = Number(process.argv[3] ?? 3);
await using model = await VisionModel.load({
    model: path.join(dir, 'model.gguf'),
    mmproj: path.join(dir, 'mmproj.gguf'),
    mmprojFlashAttention: 'off',
});
await using ctx = await model.createContext({ flashAttention: 'off' });
const policy = Policy.default('v1.2');
const prompt = ONEVISION_QWEN.render(policy.render(), { imageMarker: MTMD_MEDIA_MARKER });
// The kept prefix ends with the user turn; each generation adds the assistant header and decodes.
const cut = prompt.lastIndexOf('<|im_end|>') + '<|im_end|>'.length;
const img = await loadImage(path.join(models, 'bench-photo-384.png'));
const prefix = await ctx.evaluate({
    prompt: { text: prompt.slice(0, cut), images: [{ data: img.data, width: img.width, height: img.height }] },
});
// As LlavaGuard builds it: the answer tokenized after the prompt's tail (ChatML puts nothing between them).
const tokenize = answerTokenizer(
    model,
    prompt.slice(prompt.lastIndexOf(MTMD_MEDIA_MARKER) + MTMD_MEDIA_MARKER.length),
    ONEVISION_QWEN.answerSeparator,
);
const settings = [
    ['full verdict, model tokens', buildVerdictTokenGrammar(policy, tokenize, { maxRationaleChars: 160 }), undefined],
    ['rationale: false, model tokens', buildVerdictTokenGrammar(policy, tokenize, { rationale: false }), undefined],
    [
        'full verdict, characters, drafts',
        buildVerdictGrammar(policy, { maxRationaleChars: 160 }),
        verdictDrafts(policy),
    ],
    ['full verdict, characters, no drafts', buildVerdictGrammar(policy, { maxRationaleChars: 160 }), undefined],
    [
        'rationale: false, characters, drafts',
        buildVerdictGrammar(policy, { rationale: false }),
        verdictDrafts(policy, { rationale: false }),
    ],
    ['rationale: false, characters, no drafts', buildVerdictGrammar(policy, { rationale: false }), undefined],
] as const;
console.log('| round | setting | tokens | forward passes | forced | draft tokens confirmed / proposed | decode (ms) |');
console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
for (let round = 0; round < rounds; round++) {
    for (const [name, grammar, drafts] of settings) {
        const r = await ctx.generate({
            prompt: { text: prompt.slice(cut) },
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
