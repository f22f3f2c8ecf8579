// Small but complete vocabularies for the tiny test models: every byte has a token (so any
// grammar is satisfiable and any text tokenizes), there are end-of-generation tokens, and a few
// hundred multi-character pieces are reachable by the tokenizer's merges. Like a real vocabulary
// they are larger than the sampler's probe of the first ids (sequence-sampler.h, 2048): filler
// pieces of Latin-1 letters fill the ids after the bytes, so the pieces of the verdict's words lie
// beyond the probe, while their merges rank last so no ASCII text tokenizes differently.

import { TOKEN_TYPE } from '../metadata.js';

export { TOKEN_TYPE };

export interface TinyVocab {
    tokens: string[];
    tokenTypes: number[];
    /** SPM only */
    scores?: number[];
    /** BPE only: "left right" pairs in rank order */
    merges?: string[];
    bosId: number;
    eosId: number;
    unkId?: number;
    padId: number;
    /** ids of the chat-control tokens, by text */
    special: Record<string, number>;
}

/** Words whose pieces the vocabularies contain: LlavaGuard's JSON verdict, chat roles, common English. */
const WORDS = [
    'rating',
    'category',
    'rationale',
    'Safe',
    'Unsafe',
    'safe',
    'unsafe',
    'Hate',
    'Humiliation',
    'Harassment',
    'Violence',
    'Harm',
    'Cruelty',
    'Sexual',
    'Content',
    'Nudity',
    'Criminal',
    'Planning',
    'Weapons',
    'Substance',
    'Abuse',
    'Self',
    'Animal',
    'Disasters',
    'Emergencies',
    'Policy',
    'Assessment',
    'image',
    'the',
    'and',
    'of',
    'to',
    'is',
    'in',
    'that',
    'it',
    'for',
    'with',
    'this',
    'not',
    'are',
    'an',
    'or',
    'on',
    'be',
    'USER',
    'ASSISTANT',
    'user',
    'assistant',
    'system',
    'NA',
    'None',
    'true',
    'false',
    'null',
];

const PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
/** Multi-character JSON pieces (two or more symbols), as in real vocabularies. */
const JSON_PIECES = ['{"', '":', '",', '"}', '":"', '","', '"]', '["', '{}', '[]', '},', '},{'];

/** Filler pieces: the Latin-1 letters U+00C0..U+00FF, and pairs of them (the first 32 times all 64). */
function fillerPieces(): string[][] {
    const letters = Array.from({ length: 64 }, (_, i) => String.fromCodePoint(0xc0 + i));
    return [...letters.map((c) => [c]), ...letters.slice(0, 32).flatMap((a) => letters.map((b) => [a, b]))];
}

function addChain(out: string[], seen: Set<string>, syms: string[]): void {
    // every prefix of length >= 2: each is (previous prefix) + (one symbol)
    let acc = syms[0];
    for (let i = 1; i < syms.length; i++) {
        acc += syms[i];
        if (!seen.has(acc)) {
            seen.add(acc);
            out.push(acc);
        }
    }
}

/**
 * LLaMA/SentencePiece vocab: <unk>, <s>, </s>, <0x00>..<0xFF> (BYTE), then normal pieces with
 * decreasing scores. Every multi-character piece is a single piece plus one character, so the SPM
 * bigram merger can build it.
 */
export function makeSpmVocab(): TinyVocab {
    const tokens: string[] = ['<unk>', '<s>', '</s>'];
    const tokenTypes: number[] = [TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL];
    for (let b = 0; b < 256; b++) {
        tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
        tokenTypes.push(TOKEN_TYPE.BYTE);
    }
    const SP = '\u2581';
    const pieces: string[] = [];
    const seen = new Set<string>();
    const add = (s: string) => {
        if (!seen.has(s)) {
            seen.add(s);
            pieces.push(s);
        }
    };
    // Fillers first (ids right after the bytes), scored below every other piece.
    const fillers: string[] = [];
    for (const syms of fillerPieces()) {
        if (syms.length === 1) add(syms[0]);
        else addChain(pieces, seen, syms);
    }
    fillers.push(...pieces.splice(0));
    add(SP);
    for (const ch of LETTERS + DIGITS + PUNCT) add(ch);
    for (const ch of LETTERS + DIGITS + '"{[') add(SP + ch);
    for (const p of JSON_PIECES) addChain(pieces, seen, [...p]);
    addChain(pieces, seen, [SP, '"', ':']);
    addChain(pieces, seen, [SP, SP, SP, SP]);
    for (const w of WORDS) {
        addChain(pieces, seen, [SP, ...w]);
        addChain(pieces, seen, [...w]);
    }
    const scores: number[] = tokens.map(() => 0);
    fillers.forEach((p, i) => {
        tokens.push(p);
        tokenTypes.push(TOKEN_TYPE.NORMAL);
        scores.push(-1e6 - i);
    });
    pieces.forEach((p, i) => {
        tokens.push(p);
        tokenTypes.push(TOKEN_TYPE.NORMAL);
        scores.push(-i);
    });
    return llamaSpmVocab(tokens, tokenTypes, scores);
}

/** A SentencePiece vocabulary with LLaMA's ids: <unk> 0 (also padding), <s> 1, </s> 2. */
export function llamaSpmVocab(tokens: string[], tokenTypes: number[], scores: number[]): TinyVocab {
    return { tokens, tokenTypes, scores, bosId: 1, eosId: 2, unkId: 0, padId: 0, special: { '<s>': 1, '</s>': 2 } };
}

/** GPT-2's bytes_to_unicode: the byte order used for the first 256 tokens and each byte's char. */
export function gpt2ByteOrder(): Array<[byte: number, char: string]> {
    const bs: number[] = [];
    for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
    for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
    for (let b = 0xae; b <= 0xff; b++) bs.push(b);
    const cs = [...bs];
    let n = 0;
    for (let b = 0; b < 256; b++) {
        if (!bs.includes(b)) {
            bs.push(b);
            cs.push(256 + n);
            n++;
        }
    }
    return bs.map((b, i) => [b, String.fromCodePoint(cs[i])]);
}

/**
 * Qwen2-style byte-level BPE vocab: the 256 byte tokens in GPT-2 order, merged pieces with their
 * merges (every merge result is a token, so merging never leaves an unknown symbol), then
 * <|endoftext|>, <|im_start|>, <|im_end|> as control tokens. eos = <|im_end|>.
 */
export function makeBpeVocab(): TinyVocab {
    const order = gpt2ByteOrder();
    const byteChar = new Map(order);
    const tokens: string[] = order.map(([, c]) => c);
    const tokenTypes: number[] = tokens.map(() => TOKEN_TYPE.NORMAL);
    const seen = new Set(tokens);
    const merges: string[] = [];
    const mergeSeen = new Set<string>();
    const mapStr = (s: string) => [...Buffer.from(s, 'utf8')].map((b) => byteChar.get(b)!);
    const chain = (syms: string[], into = merges) => {
        let acc = syms[0];
        for (let i = 1; i < syms.length; i++) {
            const m = `${acc} ${syms[i]}`;
            acc += syms[i];
            if (!mergeSeen.has(m) && !seen.has(acc)) {
                mergeSeen.add(m);
                into.push(m);
                seen.add(acc);
                tokens.push(acc);
                tokenTypes.push(TOKEN_TYPE.NORMAL);
            }
        }
    };
    // Fillers first (ids right after the bytes); their merges are ranked after all others below.
    const fillerMerges: string[] = [];
    // A pair merges its two letters' tokens (so BPE reaches it), ranked after the letters' own merges.
    for (const syms of fillerPieces())
        chain(syms.length === 1 ? mapStr(syms[0]) : syms.map((c) => mapStr(c).join('')), fillerMerges);
    const G = byteChar.get(0x20)!; // 'Ġ'
    const C = byteChar.get(0x0a)!; // 'Ċ'
    for (const ch of LETTERS + DIGITS + '"{[') chain([G, ch]);
    chain([G, G, G, G]);
    chain([C, C]);
    for (const p of JSON_PIECES) chain(mapStr(p));
    chain(mapStr(' "'));
    for (const w of WORDS) {
        chain(mapStr(' ' + w));
        chain(mapStr(w));
    }
    merges.push(...fillerMerges);
    const special: Record<string, number> = {};
    for (const s of ['<|endoftext|>', '<|im_start|>', '<|im_end|>']) {
        special[s] = tokens.length;
        tokens.push(s);
        tokenTypes.push(TOKEN_TYPE.CONTROL);
    }
    return {
        tokens,
        tokenTypes,
        merges,
        bosId: special['<|endoftext|>'],
        eosId: special['<|im_end|>'],
        padId: special['<|endoftext|>'],
        special,
    };
}

/** LLaVA-1.5 (Vicuna v1) conversation template; llama.cpp detects it as "vicuna". */
export const VICUNA_CHAT_TEMPLATE =
    '{% for message in messages %}' +
    "{% if message['role'] == 'system' %}{{ message['content'] }}\n\n" +
    "{% elif message['role'] == 'user' %}USER: {{ message['content'] }}\n" +
    "{% elif message['role'] == 'assistant' %}ASSISTANT: {{ message['content'] }}</s>\n" +
    '{% endif %}{% endfor %}' +
    '{% if add_generation_prompt %}ASSISTANT:{% endif %}';

/** ChatML (Qwen2 / LLaVA-OneVision) template; llama.cpp detects it as "chatml". */
export const CHATML_CHAT_TEMPLATE =
    '{% for message in messages %}' +
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
    '{% endfor %}' +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
