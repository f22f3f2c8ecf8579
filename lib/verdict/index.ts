export { LLAVAGUARD_VERDICT, type VerdictFormat } from './format.js';
export {
    MAX_RATIONALE_CHARS,
    VERDICT_CLOSE_WITHOUT_RATIONALE,
    VERDICT_PREFIX,
    buildVerdictGrammar,
    verdictLayouts,
    gbnfLiteral,
    jsonStringContent,
    type VerdictGrammarOptions,
} from './grammar.js';
export { buildVerdictTokenGrammar, type LayoutTokenizer } from './token-grammar.js';
export { verdictDrafts, type VerdictDraftOptions } from './drafts.js';
export { VerdictParseError, parseVerdict } from './parse.js';
export { normalizeCategory, type NormalizedCategory } from './category.js';
export {
    RATINGS,
    categoriesFor,
    categoryStringsOf,
    verdictAnswers,
    violatingCategoriesOf,
    type CategorySource,
    type ParsedVerdict,
    type ParseMethod,
    type Rating,
    type Verdict,
} from './types.js';
