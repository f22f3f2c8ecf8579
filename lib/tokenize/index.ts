export { AddedTokens, type AddedToken, type Fragment } from './added-tokens.js';
export { normalizeText, unicodeNormalizerOf, type UnicodeNormalizer } from './normalizer.js';
export {
    TextTokenizer,
    type PlainTokenizer,
    type PromptText,
    type TextPart,
    type TokenizeOptions,
} from './TextTokenizer.js';
