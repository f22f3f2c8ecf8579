// Drafts for speculative jump-forward (VisionContext's `drafts`): the verdict's literal text, spelled out once
// per rating and category, exactly as the grammar in grammar.ts writes it. The native side proposes, after
// the text generated so far, the rest that all matching drafts share (after `{`: the layout up to the
// rating; after `Uns`: `afe",` and the layout up to the category; after `O2`: the category's name and the
// layout up to the rationale), and keeps it only where sampling picks the same tokens.
import { LLAVAGUARD_VERDICT } from './format.js';
import { verdictLayouts } from './grammar.js';
import type { CategorySource } from './types.js';

export interface VerdictDraftOptions {
    /** Whether the verdict has a rationale field (default true), as in buildVerdictGrammar. */
    readonly rationale?: boolean;
}

export function verdictDrafts(categories: CategorySource, options: VerdictDraftOptions = {}): string[] {
    const rationale = options.rationale ?? true;
    const drafts = verdictLayouts(categories, rationale);
    // The rationale is free text; only its closing quote is known, and what follows it.
    if (rationale) drafts.push(LLAVAGUARD_VERDICT.closeAfterRationale);
    return drafts;
}
