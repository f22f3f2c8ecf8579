// A policy from its rendered text: what the reference's client sends as the chat message's text (the
// json-v24 / json-v16 prompt, with any policy exceptions written in). Parsed into a Policy, then accepted only
// when that Policy renders to exactly the text sent, so the verdict grammar, the category list and the prompt
// are the ones the text describes, byte for byte.
import {
    DEFAULT_CATEGORIES,
    NONE_APPLYING_ID,
    POLICY_VERSIONS,
    PREAMBLE,
    Policy,
    type PolicyJSON,
} from '../policy/index.js';
import { TRAINED_EXCEPTION_BULLETS } from '../policy/taxonomy.js';

interface ParsedCategory {
    id: string;
    name: string;
    status: 'default' | 'allowed' | 'sensitive';
    shouldNot: string[];
    can: string[];
}

// Python's str.strip(), as the chat format applies it to the policy text.
const strip = (s: string) => s.replace(/^\s+|\s+$/g, '');

/** The Policy whose rendering is `text` (surrounding whitespace aside), or undefined when there is none. */
export function policyFromText(text: string): Policy | undefined {
    const body = strip(text);
    if (!body.startsWith(`${PREAMBLE}\n`)) return undefined;
    const stepsAt = body.indexOf('\nAssessment Steps:\n');
    if (stepsAt < 0) return undefined;
    const categories = parseCategories(body.slice(PREAMBLE.length + 1, stepsAt + 1));
    if (!categories || categories.length === 0) return undefined;
    for (const version of POLICY_VERSIONS) {
        let policy: Policy;
        try {
            policy = Policy.fromJSON({ version, categories } satisfies PolicyJSON);
        } catch {
            return undefined;
        }
        if (policy.render() === body) return policy;
    }
    return undefined;
}

const EXCEPTION_HEADER =
    /^Category (\S+) is declared as (non-violating|sensitive)\. Therefore, we do not (?:provide any restrictions for this category and allow any content of this category|permit any content related to this category) e\.g\.$/;

function parseCategories(section: string): ParsedCategory[] | undefined {
    const lines = section.split('\n');
    const out: ParsedCategory[] = [];
    let i = 0;
    while (i < lines.length && lines[i] !== '') {
        const head = /^([^:]+): (.+): $/.exec(lines[i++]!);
        if (!head) return undefined;
        const [, id, name] = head as unknown as [string, string, string];
        if (id === NONE_APPLYING_ID) return undefined;
        const first = lines[i++];
        if (first === 'Should not:') {
            const shouldNot = takeBullets(lines, i, '- ');
            i += shouldNot.length;
            if (lines[i++] !== 'Can:') return undefined;
            const can = takeBullets(lines, i, '- ');
            i += can.length;
            if (lines[i++] !== '') return undefined; // the blank line after a normal block
            out.push({ id, name, status: 'default', shouldNot, can });
            continue;
        }
        const exception = EXCEPTION_HEADER.exec(first ?? '');
        if (!exception || exception[1] !== id) return undefined;
        const bullets = takeBullets(lines, i, ' - ');
        i += bullets.length;
        if (lines[i++] !== ' ') return undefined; // an exception block ends with a line holding one space
        const status = exception[2] === 'non-violating' ? 'allowed' : 'sensitive';
        out.push({ id, name, status, ...splitBullets(id, name, bullets) });
    }
    return i === lines.length - 1 && lines[i] === '' ? out : undefined;
}

function takeBullets(lines: string[], from: number, prefix: string): string[] {
    const bullets: string[] = [];
    for (let i = from; i < lines.length && lines[i]!.startsWith(prefix); i++)
        bullets.push(lines[i]!.slice(prefix.length));
    return bullets;
}

/**
 * An exception block lists "should not" and "can" bullets as one list. For a built-in category whose trained
 * bullets they are, the category keeps its own guidelines (the renderer writes the trained text back, O2's
 * double space included); otherwise they all become "should not" bullets, which render the same.
 */
function splitBullets(id: string, name: string, bullets: string[]): { shouldNot: string[]; can: string[] } {
    const builtin = DEFAULT_CATEGORIES.find((c) => c.id === id && c.name === name);
    if (builtin) {
        const trained = TRAINED_EXCEPTION_BULLETS[id] ?? [...builtin.shouldNot, ...builtin.can];
        if (trained.length === bullets.length && trained.every((b, k) => b === bullets[k]))
            return { shouldNot: [...builtin.shouldNot], can: [...builtin.can] };
    }
    return { shouldNot: bullets, can: [] };
}
