// Which Unicode normalization the model's Hugging Face tokenizer applies before tokenizing: llama.cpp applies none,
// so lib/tokenize does it. Our converter records tokenizer.json's normalizer in the GGUF; for files made by
// llama.cpp's own converter it is inferred from the pre-tokenizer name, which names the tokenizer family.
import { metaValue } from '../../gguf/reader.js';
import type { GgufHeader } from '../../gguf/types.js';
import { NORMALIZER_KEY, type UnicodeNormalizer } from '../../gguf/convert/tokenizer.js';

export type { UnicodeNormalizer };

/**
 * tokenizer.ggml.pre values whose Hugging Face tokenizer.json normalizes to NFC (Qwen2 and the Qwen2.5/Qwen3
 * tokenizers llama.cpp names the same way). LLaMA's SentencePiece tokenizer (pre "default") has
 * Prepend + Replace, which llama.cpp's SPM tokenizer does itself, and no Unicode form.
 */
const NFC_PRE_TOKENIZERS = new Set(['qwen2', 'qwen35']);

const FORMS = new Set<UnicodeNormalizer>(['NFC', 'NFD', 'NFKC', 'NFKD', 'none']);

/** The normalization form of a text model's tokenizer, from its GGUF header. */
export function unicodeNormalizerOf(header: Pick<GgufHeader, 'metadata'>): UnicodeNormalizer {
    const recorded = metaValue(header, NORMALIZER_KEY);
    if (recorded !== undefined) {
        if (typeof recorded !== 'string' || !FORMS.has(recorded as UnicodeNormalizer))
            throw new RangeError(
                `${NORMALIZER_KEY} is ${JSON.stringify(recorded)}; expected one of ${[...FORMS].join(', ')}`,
            );
        return recorded as UnicodeNormalizer;
    }
    const pre = metaValue(header, 'tokenizer.ggml.pre');
    return typeof pre === 'string' && NFC_PRE_TOKENIZERS.has(pre) ? 'NFC' : 'none';
}

/** Applies a normalization form to one piece of plain text (never across an added token: HF does not either). */
export function normalizeText(text: string, form: UnicodeNormalizer): string {
    return form === 'none' ? text : text.normalize(form);
}
