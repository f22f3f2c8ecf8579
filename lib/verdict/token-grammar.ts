// The verdict grammar with its fixed text pinned to the model's own tokens. The training targets were
// tokenized whole, so a trained model writes the layout (`{\n    "rating": "`, the keys, the rating and the
// category strings) in the tokenizer's canonical tokens; a character grammar also admits every other spelling
// of that text (Qwen2's vocabulary has dozens for each key), so almost no position is forced and each costs a
// forward pass. Here every (rating, category) answer up to the rationale is one canonical token sequence; the
// sequences share a prefix tree, so the grammar allows exactly one token everywhere except where the answers
// part (the rating, the category), and those tokens are appended without a forward pass of their own (the
// jump-forward of SGLang's compressed FSM, which the LlavaGuard reference runs on). The rationale stays free text.
// llama.cpp's own constrained decoding with this grammar gives the same tokens; only the fixed text's spelling
// is narrowed, never its characters.
import {
    checkedCategories,
    gbnfLiteral,
    rationaleRules,
    verdictLayouts,
    type VerdictGrammarOptions,
} from './grammar.js';
import { LLAVAGUARD_VERDICT } from './format.js';
import type { CategorySource } from './types.js';

/** The model's tokenizer: text to token ids, without BOS and without parsing special tokens. */
export type LayoutTokenizer = (text: string) => ArrayLike<number>;

interface TrieNode {
    readonly children: Map<number, TrieNode>;
    end: boolean;
}

export function buildVerdictTokenGrammar(
    categories: CategorySource,
    tokenize: LayoutTokenizer,
    options: VerdictGrammarOptions = {},
): string {
    if (typeof tokenize !== 'function') throw new TypeError('buildVerdictTokenGrammar needs the model tokenizer');
    const { rationale = true, maxRationaleChars } = options;
    checkedCategories('buildVerdictTokenGrammar', categories, maxRationaleChars);
    const root: TrieNode = { children: new Map(), end: false };
    for (const text of verdictLayouts(categories, rationale)) {
        const ids = Array.from(tokenize(text));
        if (ids.length === 0 || !ids.every((t) => Number.isInteger(t) && t >= 0)) {
            throw new RangeError(`the tokenizer gave no valid tokens for ${JSON.stringify(text)}`);
        }
        let node = root;
        for (const t of ids) {
            let next = node.children.get(t);
            if (!next) {
                next = { children: new Map(), end: false };
                node.children.set(t, next);
            }
            node = next;
        }
        node.end = true;
    }

    const rules: string[] = [];
    const tail = rationale ? 'rationale-field' : '';
    // One rule per node where the answers part; a chain of single continuations stays inline.
    const ruleOf = (node: TrieNode): string => {
        const name = `layout-${rules.length}`;
        rules.push('');
        const index = rules.length - 1;
        const alternatives: string[] = [];
        if (node.end) alternatives.push(tail || '""');
        for (const [token, child] of node.children) {
            const seq = [`<[${token}]>`];
            let n = child;
            while (!n.end && n.children.size === 1) {
                const [[t, c]] = n.children;
                seq.push(`<[${t}]>`);
                n = c!;
            }
            if (n.children.size > 0) seq.push(ruleOf(n));
            else if (tail) seq.push(tail);
            alternatives.push(seq.join(' '));
        }
        rules[index] = `${name} ::= ${alternatives.join(' | ')}`;
        return name;
    };
    const lines = [`root ::= ${ruleOf(root)}`, ...rules];
    if (rationale)
        lines.push(
            `rationale-field ::= rationale ${gbnfLiteral(LLAVAGUARD_VERDICT.closeAfterRationale)}`,
            ...rationaleRules(maxRationaleChars),
        );
    return `${lines.join('\n')}\n`;
}
