// Hugging Face tokenizer folders -> llama.cpp GGUF vocab keys, laid out the way llama.cpp's
// convert_hf_to_gguf.py lays them out (_create_vocab_sentencepiece / get_vocab_base + SpecialVocab):
//
//   SPM (LLaMA, tokenizer.ggml.model "llama", pre "default"): pieces, scores and types from
//     tokenizer.model (SentencePiece protobuf) when the folder has one; otherwise from tokenizer.json
//     (a byte-fallback BPE that HF derived from the SentencePiece model), with scores rebuilt from the
//     merge order (a piece scores -(rank of the first merge that makes it)). Added tokens from
//     tokenizer.json / tokenizer_config.json: special -> CONTROL, else USER_DEFINED, score -1000.
//     Padded to the embedding's vocab_size with "[PAD<id>]" UNUSED tokens.
//   BPE (Qwen2, tokenizer.ggml.model "gpt2", pre "qwen2"): tokens by id, merges in rank order, added
//     tokens CONTROL (special) or USER_DEFINED, holes and padding "[PAD<id>]" UNUSED.
//
// Added tokens are marked exactly as Hugging Face treats them: CONTROL and USER_DEFINED are what our tokenizer
// (lib/tokenize) splits a text at, so a token HF does not add must stay NORMAL. llama.cpp's converter also makes
// non-special added tokens that look special (<|...|>) CONTROL; we do not, so that text without special-token
// parsing still splits at them as HF does (the reference checks list the tokens where the two differ).
// The tokenizer's Unicode normalizer (Qwen2: NFC), which llama.cpp does not apply, is recorded as
// llavaguard.tokenizer.normalizer for lib/tokenize to apply before llama.cpp tokenizes.

import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';

import { TOKEN_TYPE, type TokenizerMetadata } from '../metadata.js';
import { ConvertError } from './safetensors.js';

export interface ConvertedVocab extends TokenizerMetadata {
    model: 'llama' | 'gpt2';
    tokens: string[];
    tokenTypes: number[];
    scores?: number[];
    merges?: string[];
    /** where the pieces came from, for the log */
    source: string;
    /** tokenizer.json's Unicode normalization form (written as llavaguard.tokenizer.normalizer) */
    normalizer: UnicodeNormalizer;
}

/** A Unicode normalization form, or none: what lib/tokenize applies to text before llama.cpp sees it. */
export type UnicodeNormalizer = 'NFC' | 'NFD' | 'NFKC' | 'NFKD' | 'none';

export const NORMALIZER_KEY = 'llavaguard.tokenizer.normalizer';

interface TokenizerJson {
    model: {
        type: string;
        vocab: Record<string, number>;
        merges?: Array<string | [string, string]>;
        byte_fallback?: boolean;
    };
    added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
    normalizer?: unknown;
    pre_tokenizer?: unknown;
}

type Json = Record<string, unknown>;

async function readJsonIf(file: string): Promise<Json | undefined> {
    try {
        return JSON.parse(await fsp.readFile(file, 'utf8')) as Json;
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new ConvertError(`${file}: ${(error as Error).message}`);
    }
}

// --- SentencePiece ModelProto (just the pieces) --------------------------------------------------

export interface SpPiece {
    piece: string;
    score: number;
    type: number;
}

/** Parses the `pieces` of a SentencePiece ModelProto (field 1: {1: piece, 2: score, 3: type}). */
export function parseSentencePieceModel(buf: Uint8Array): SpPiece[] {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const dec = new TextDecoder('utf-8', { fatal: false });
    let pos = 0;
    const varint = (end: number): number => {
        let result = 0;
        let mul = 1;
        for (;;) {
            if (pos >= end) throw new ConvertError('tokenizer.model: truncated varint');
            const b = buf[pos++]!;
            result += (b & 0x7f) * mul;
            if (!(b & 0x80)) return result;
            mul *= 128;
        }
    };
    const skip = (wire: number, end: number) => {
        if (wire === 0) varint(end);
        else if (wire === 1) pos += 8;
        else if (wire === 2) {
            const len = varint(end); // (not `pos += varint()`: that would add to the value of pos before the call)
            pos += len;
        } else if (wire === 5) pos += 4;
        else throw new ConvertError(`tokenizer.model: unsupported protobuf wire type ${wire}`);
    };
    /** A field's key: its number and wire type. */
    const tag = (end: number): [field: number, wire: number] => {
        const key = varint(end);
        return [Math.floor(key / 8), key & 7];
    };
    const pieces: SpPiece[] = [];
    const end = buf.length;
    while (pos < end) {
        const [field, wire] = tag(end);
        if (field !== 1 || wire !== 2) {
            skip(wire, end);
            continue;
        }
        const len = varint(end);
        const mEnd = pos + len;
        const p: SpPiece = { piece: '', score: 0, type: 1 };
        while (pos < mEnd) {
            const [f, w] = tag(mEnd);
            if (f === 1 && w === 2) {
                const l = varint(mEnd);
                p.piece = dec.decode(buf.subarray(pos, pos + l));
                pos += l;
            } else if (f === 2 && w === 5) {
                p.score = dv.getFloat32(pos, true);
                pos += 4;
            } else if (f === 3 && w === 0) {
                p.type = varint(mEnd);
            } else skip(w, mEnd);
        }
        pos = mEnd;
        pieces.push(p);
    }
    if (pieces.length === 0) throw new ConvertError('tokenizer.model: no pieces');
    return pieces;
}

// --- shared helpers ---------------------------------------------------------------------------

/**
 * llama.cpp's does_token_look_special: added tokens its converter makes CONTROL even when not marked special. We
 * mark exactly HF's flags; the reference checks use this to name the tokens where the two converters differ.
 */
export function looksSpecial(t: string): boolean {
    return (
        ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(t) ||
        (t.startsWith('<|') && t.endsWith('|>')) ||
        (t.startsWith('<\uff5c') && t.endsWith('\uff5c>')) ||
        (t.startsWith('<unused') && t.endsWith('>'))
    );
}

const UNICODE_FORMS = new Set(['NFC', 'NFD', 'NFKC', 'NFKD']);

/**
 * The Unicode normalization form of tokenizer.json's normalizer. SentencePiece's Prepend("▁") + Replace(" ", "▁")
 * are what llama.cpp's SPM tokenizer does itself (space prefix, "▁" for spaces), so they add nothing here; any
 * other normalizer (lowercasing, accent stripping, ...) is one llama.cpp would silently skip, so it is refused.
 */
export function unicodeNormalizer(normalizer: unknown, file: string): UnicodeNormalizer {
    const forms: string[] = [];
    const visit = (n: unknown) => {
        if (n === null || n === undefined) return;
        const type = (n as Json).type;
        if (type === 'Sequence' && Array.isArray((n as Json).normalizers)) {
            for (const inner of (n as Json).normalizers as unknown[]) visit(inner);
        } else if (typeof type === 'string' && UNICODE_FORMS.has(type)) {
            forms.push(type);
        } else if (type !== 'Prepend' && type !== 'Replace') {
            throw new ConvertError(
                `${file}: normalizer ${JSON.stringify(type)} is not one llama.cpp's tokenizers reproduce (supported: NFC, NFD, NFKC, NFKD, SentencePiece's Prepend/Replace)`,
            );
        }
    };
    visit(normalizer);
    if (forms.length > 1) throw new ConvertError(`${file}: more than one Unicode normalizer (${forms.join(', ')})`);
    return (forms[0] as UnicodeNormalizer | undefined) ?? 'none';
}

function tokenContent(v: unknown): string | undefined {
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
    return undefined;
}

async function chatTemplate(dir: string, tokCfg: Json | undefined): Promise<string | undefined> {
    const fromCfg = tokCfg?.chat_template;
    if (typeof fromCfg === 'string') return fromCfg;
    if (Array.isArray(fromCfg)) {
        const d = fromCfg.find((e) => (e as Json)?.name === 'default') ?? fromCfg[0];
        if (d && typeof (d as Json).template === 'string') return (d as Json).template as string;
    }
    const j = await readJsonIf(path.join(dir, 'chat_template.json'));
    if (typeof j?.chat_template === 'string') return j.chat_template;
    const jinja = path.join(dir, 'chat_template.jinja');
    if (existsSync(jinja)) return fsp.readFile(jinja, 'utf8');
    return undefined;
}

function specialIds(
    lookup: (content: string) => number | undefined,
    tokCfg: Json | undefined,
    config: Json,
    nVocab: number,
): Pick<ConvertedVocab, 'bosId' | 'eosId' | 'unkId' | 'padId'> {
    const text = (config.text_config ?? {}) as Json;
    const out: Record<string, number | undefined> = {};
    for (const k of ['bos', 'eos', 'unk', 'pad']) {
        let id: number | undefined;
        const content = tokenContent(tokCfg?.[`${k}_token`]);
        if (content !== undefined) id = lookup(content);
        if (id === undefined) {
            const c = config[`${k}_token_id`] ?? text[`${k}_token_id`];
            const v = Array.isArray(c) ? c[0] : c;
            if (typeof v === 'number' && Number.isInteger(v)) id = v;
        }
        if (id !== undefined && (id < 0 || id >= nVocab)) id = undefined;
        out[`${k}Id`] = id;
    }
    return out as Pick<ConvertedVocab, 'bosId' | 'eosId' | 'unkId' | 'padId'>;
}

/** specialIds over the vocabulary's tokens (a text's first token). */
function specialIdsByContent(tokens: string[], tokCfg: Json | undefined, config: Json, nVocab: number) {
    const byContent = new Map<string, number>();
    tokens.forEach((t, i) => {
        if (!byContent.has(t)) byContent.set(t, i);
    });
    return specialIds((c) => byContent.get(c), tokCfg, config, nVocab);
}

const flag = (cfg: Json | undefined, key: string, fallback: boolean): boolean =>
    typeof cfg?.[key] === 'boolean' ? (cfg[key] as boolean) : fallback;

function vocabById(vocab: Record<string, number>, nVocab: number, file: string): Array<string | undefined> {
    const byId = new Array<string | undefined>(nVocab);
    for (const [piece, id] of Object.entries(vocab)) {
        if (!Number.isInteger(id) || id < 0)
            throw new ConvertError(`${file}: bad token id ${id} for ${JSON.stringify(piece)}`);
        if (id >= nVocab)
            throw new ConvertError(
                `${file}: token id ${id} (${JSON.stringify(piece)}) is outside the model's vocab_size ${nVocab}`,
            );
        byId[id] = piece;
    }
    return byId;
}

// --- SPM --------------------------------------------------------------------------------------

export async function loadSpmVocab(dir: string, nVocab: number, config: Json): Promise<ConvertedVocab> {
    const tokCfg = await readJsonIf(path.join(dir, 'tokenizer_config.json'));
    const tjFile = path.join(dir, 'tokenizer.json');
    const tj = (await readJsonIf(tjFile)) as TokenizerJson | undefined;
    const spFile = path.join(dir, 'tokenizer.model');
    const tokens: string[] = Array.from({ length: nVocab }, (_, i) => `[PAD${i}]`);
    const scores: number[] = new Array<number>(nVocab).fill(-10000);
    const types: number[] = new Array<number>(nVocab).fill(TOKEN_TYPE.UNUSED);
    let source: string;
    if (existsSync(spFile)) {
        const pieces = parseSentencePieceModel(await fsp.readFile(spFile));
        if (pieces.length > nVocab)
            throw new ConvertError(`${spFile}: ${pieces.length} pieces, more than the model's vocab_size ${nVocab}`);
        pieces.forEach((p, i) => {
            tokens[i] = p.piece;
            scores[i] = p.score;
            // as llama.cpp: USER_DEFINED SentencePiece pieces stay NORMAL
            types[i] =
                p.type === 2
                    ? TOKEN_TYPE.UNKNOWN
                    : p.type === 3
                      ? TOKEN_TYPE.CONTROL
                      : p.type === 5
                        ? TOKEN_TYPE.UNUSED
                        : p.type === 6
                          ? TOKEN_TYPE.BYTE
                          : TOKEN_TYPE.NORMAL;
        });
        source = spFile;
    } else if (tj) {
        if (tj.model?.type !== 'BPE' || !tj.model.byte_fallback) {
            throw new ConvertError(
                `${tjFile}: a LLaMA tokenizer must be a byte-fallback BPE (SentencePiece-derived); got ${tj.model?.type}`,
            );
        }
        const addedIds = new Set((tj.added_tokens ?? []).map((a) => a.id));
        const byId = vocabById(tj.model.vocab, nVocab, tjFile);
        const merges = (tj.model.merges ?? []).map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
        const rank = new Map<string, number>();
        merges.forEach((m, i) => {
            const sp = m.indexOf(' ');
            const piece = m.slice(0, sp) + m.slice(sp + 1);
            if (!rank.has(piece)) rank.set(piece, i);
        });
        byId.forEach((piece, id) => {
            if (piece === undefined || addedIds.has(id)) return;
            tokens[id] = piece;
            const isByte = /^<0x[0-9A-Fa-f]{2}>$/.test(piece);
            types[id] = isByte ? TOKEN_TYPE.BYTE : TOKEN_TYPE.NORMAL;
            scores[id] = isByte ? 0 : -(rank.get(piece) ?? merges.length + id);
        });
        source = `${tjFile} (scores from the merge order)`;
    } else {
        throw new ConvertError(`${dir}: no tokenizer.model or tokenizer.json`);
    }
    // added tokens (tokenizer.json, then tokenizer_config.json's added_tokens_decoder, as llama.cpp)
    const added: Array<{ id: number; content: string; special: boolean }> = [];
    for (const a of tj?.added_tokens ?? []) added.push({ id: a.id, content: a.content, special: !!a.special });
    const dec = (tokCfg?.added_tokens_decoder ?? {}) as Record<string, { content: string; special?: boolean }>;
    for (const [id, d] of Object.entries(dec)) added.push({ id: Number(id), content: d.content, special: !!d.special });
    const addedJson = await readJsonIf(path.join(dir, 'added_tokens.json'));
    for (const [content, id] of Object.entries(addedJson ?? {})) {
        if (typeof id === 'number' && !added.some((a) => a.id === id)) added.push({ id, content, special: false });
    }
    for (const a of added) {
        if (!Number.isInteger(a.id) || a.id < 0) continue;
        if (a.id >= nVocab)
            throw new ConvertError(
                `added token ${JSON.stringify(a.content)} has id ${a.id}, outside the model's vocab_size ${nVocab}`,
            );
        if (a.special) {
            types[a.id] = TOKEN_TYPE.CONTROL;
            tokens[a.id] = a.content;
        } else {
            types[a.id] = TOKEN_TYPE.USER_DEFINED;
            tokens[a.id] = a.content.replaceAll('\u2581', ' ');
        }
        scores[a.id] = -1000;
    }
    const sp = specialIdsByContent(tokens, tokCfg, config, nVocab);
    const addPrefix = tokCfg?.add_prefix_space;
    return {
        model: 'llama',
        pre: 'default',
        tokens,
        tokenTypes: types,
        scores,
        ...sp,
        addBos: flag(tokCfg, 'add_bos_token', true),
        addEos: flag(tokCfg, 'add_eos_token', false),
        addSpacePrefix: typeof addPrefix === 'boolean' ? addPrefix : undefined,
        chatTemplate: await chatTemplate(dir, tokCfg),
        source,
        normalizer: unicodeNormalizer(tj?.normalizer, tjFile),
    };
}

// --- byte-level BPE (Qwen2) -------------------------------------------------------------------

export async function loadBpeVocab(dir: string, nVocab: number, config: Json, pre: string): Promise<ConvertedVocab> {
    const tokCfg = await readJsonIf(path.join(dir, 'tokenizer_config.json'));
    const tjFile = path.join(dir, 'tokenizer.json');
    const tj = (await readJsonIf(tjFile)) as TokenizerJson | undefined;
    if (!tj) throw new ConvertError(`${dir}: no tokenizer.json (a byte-level BPE tokenizer is needed)`);
    if (tj.model?.type !== 'BPE') throw new ConvertError(`${tjFile}: expected a BPE model, got ${tj.model?.type}`);
    const byId = vocabById(tj.model.vocab, nVocab, tjFile);
    const tokens: string[] = [];
    const types: number[] = [];
    for (let i = 0; i < nVocab; i++) {
        tokens.push(byId[i] ?? `[PAD${i}]`);
        types.push(byId[i] === undefined ? TOKEN_TYPE.UNUSED : TOKEN_TYPE.NORMAL);
    }
    const added: Array<{ id: number; content: string; special: boolean }> = [];
    for (const a of tj.added_tokens ?? []) added.push({ id: a.id, content: a.content, special: !!a.special });
    const dec = (tokCfg?.added_tokens_decoder ?? {}) as Record<string, { content: string; special?: boolean }>;
    for (const [id, d] of Object.entries(dec)) added.push({ id: Number(id), content: d.content, special: !!d.special });
    for (const a of added) {
        if (!Number.isInteger(a.id) || a.id < 0) continue;
        if (a.id >= nVocab)
            throw new ConvertError(
                `added token ${JSON.stringify(a.content)} has id ${a.id}, outside the model's vocab_size ${nVocab}`,
            );
        const control = a.special;
        tokens[a.id] = control ? a.content : a.content.replaceAll('\u2581', ' ');
        types[a.id] = control ? TOKEN_TYPE.CONTROL : TOKEN_TYPE.USER_DEFINED;
    }
    const merges = (tj.model.merges ?? []).map((m) => (typeof m === 'string' ? m : `${m[0]} ${m[1]}`));
    const sp = specialIdsByContent(tokens, tokCfg, config, nVocab);
    return {
        model: 'gpt2',
        pre,
        tokens,
        tokenTypes: types,
        merges,
        ...sp,
        addBos: flag(tokCfg, 'add_bos_token', false),
        addEos: flag(tokCfg, 'add_eos_token', false),
        chatTemplate: await chatTemplate(dir, tokCfg),
        source: tjFile,
        normalizer: unicodeNormalizer(tj.normalizer, tjFile),
    };
}
