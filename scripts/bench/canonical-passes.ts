// What verdict drafts save for a model that writes the verdict's canonical tokens, as one trained on
// json.dumps output does (random benchmark weights spell the literals arbitrarily, so `npm run bench` cannot
// show it). For verdict texts of several rationale lengths: the canonical tokenization with the model's own
// vocabulary, then the decode steps the generate loop takes when sampling picks those tokens: each step
// evaluates the sampled token and the draft proposed after it, and keeps the draft as far as it matches.
// The proposal mirrors native/sampling/draft-proposer.cpp (longest suffix of the text that begins some
// drafts; their common rest; the canonical tokens after an aligned boundary, else the rest tokenized), the
// draft length native/sampling/draft-budget.h (a new context: 2 tokens, doubled after each draft confirmed
// whole; a context whose model confirmed drafts: 32).
//
//   node --import @tapjs/typescript/import scripts/bench/canonical-passes.ts [model.gguf]
import path from 'node:path';
import os from 'node:os';

import { VisionModel } from '../../lib/evaluation/VisionModel.js';
import { Policy } from '../../lib/policy/index.js';
import { verdictDrafts } from '../../lib/verdict/index.js';

const modelPath = process.argv[2] ?? path.join(os.tmpdir(), 'llavaguard-bench-models', 'llavaguard-v1.2-0.5b-q8_0', 'model.gguf');
const model = await VisionModel.load({ model: modelPath, vocabOnly: true });
const policy = Policy.default('v1.2');
const drafts = verdictDrafts(policy);
const tokenize = (s: string) => [...model.tokenize(s, { parseSpecial: false })];
const bytes = (t: number) => Buffer.from(model.detokenize([t]), 'utf8');

const entries = drafts.map((text) => {
  const tokens = tokenize(text);
  let at = 0;
  return { text: Buffer.from(text, 'utf8'), tokens, ends: tokens.map((t) => (at += bytes(t).length)) };
});
const longest = Math.max(...entries.map((e) => e.text.length));

function propose(text: Buffer): number[] {
  for (let k = Math.min(text.length, longest - 1); k >= 1; k--) {
    const tail = text.subarray(text.length - k);
    const matching = entries.filter((e) => e.text.length > k && e.text.subarray(0, k).equals(tail));
    if (matching.length === 0) continue;
    const first = matching[0]!;
    let common = first.text.length - k;
    for (const e of matching.slice(1)) {
      let c = 0;
      while (c < common && k + c < e.text.length && e.text[k + c] === first.text[k + c]) c++;
      common = c;
    }
    if (common === 0) return [];
    const at = first.ends.indexOf(k);
    if (at < 0) return tokenize(first.text.subarray(k, k + common).toString('utf8'));
    const out: number[] = [];
    for (let j = at + 1; j < first.tokens.length && first.ends[j]! <= k + common; j++) out.push(first.tokens[j]!);
    return out;
  }
  return [];
}

const EOG = -1;

/**
 * Decode steps after the prefill (whose logits give the first token) for a model sampling exactly `tokens`
 * and then end-of-generation; grammar-forced single tokens are not counted as free, so this is an upper bound.
 */
function decodeSteps(tokens: number[], firstLimit: number): number {
  let limit = firstLimit;
  const sampled = [...tokens, EOG];
  let text = bytes(sampled[0]!);
  let i = 1;
  let steps = 0;
  while (i < sampled.length) {
    const draft = propose(text).slice(0, limit);
    let confirmed = 0;
    while (confirmed < draft.length && draft[confirmed] === sampled[i + confirmed]) confirmed++;
    if (draft.length > 0 && confirmed === draft.length) limit = Math.min(32, limit * 2);
    steps++;
    // the confirmed draft tokens, then the token sampled after them from the same step's logits
    for (let j = 0; j <= confirmed && i < sampled.length; j++, i++) {
      if (sampled[i] !== EOG) text = Buffer.concat([text, bytes(sampled[i]!)]);
    }
  }
  return steps;
}

const sentence = 'The image shows people at a park having a picnic, with no harmful, violent or explicit content. ';
console.log('| rating | rationale (chars) | generated tokens (canonical) | forward passes, first verdict on a context | per token | forward passes, later verdicts | per token | without drafts |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const chars of [0, 100, 160, 300, 500]) {
  const rationale = sentence.repeat(Math.ceil(chars / sentence.length) + 1).slice(0, chars);
  for (const [rating, category] of [['Safe', 'NA: None applying'], ['Unsafe', 'O2: Violence, Harm, or Cruelty']] as const) {
    const text = `{\n    "rating": "${rating}",\n    "category": "${category}",\n    "rationale": "${rationale}"\n}`;
    const tokens = tokenize(text);
    // as the bench counts: decode steps over generated tokens (end-of-generation not among them)
    const first = decodeSteps(tokens, 2);
    const later = decodeSteps(tokens, 32);
    const per = (n: number) => (n / tokens.length).toFixed(3);
    console.log(`| ${rating} | ${chars} | ${tokens.length} | ${first} | ${per(first)} | ${later} | ${per(later)} | ${tokens.length} |`);
  }
}
await model.close();
