// A small GBNF reader and matcher for the grammar tests, written apart from the code under test so that it checks it.
// It follows llama.cpp's parser (src/llama-grammar.cpp): rules "name ::= ...", literals with the
// escapes \x \u \U \t \r \n \\ \" \[ \] \-, character classes with ^ and ranges, groups, "." and
// the repetitions * + ? {m} {m,} {m,n}; a newline ends a rule unless inside parentheses or after
// "|". Parsing throws on anything malformed, so a successful parse is the well-formedness check.
export type GbnfNode =
    | { t: 'lit'; cps: number[] }
    | { t: 'class'; neg: boolean; ranges: [number, number][] }
    | { t: 'any' }
    | { t: 'ref'; name: string }
    | { t: 'seq'; items: GbnfNode[] }
    | { t: 'alt'; alts: GbnfNode[] }
    | { t: 'rep'; item: GbnfNode; min: number; max: number };

const MAX_REPETITION = 2000; // llama.cpp's MAX_REPETITION_THRESHOLD

export function parseGbnf(src: string): Map<string, GbnfNode> {
    const rules = new Map<string, GbnfNode>();
    let i = 0;
    const cp = () => src.codePointAt(i)!;
    const fail = (msg: string): never => {
        throw new Error(`GBNF: ${msg} at ${JSON.stringify(src.slice(i, i + 30))}`);
    };
    const space = (newlines: boolean) => {
        while (i < src.length) {
            const c = src[i];
            if (c === '#') while (i < src.length && src[i] !== '\n') i++;
            else if (c === ' ' || c === '\t' || (newlines && (c === '\n' || c === '\r'))) i++;
            else break;
        }
    };
    const name = () => {
        const m = /^[a-zA-Z0-9-]+/.exec(src.slice(i));
        if (!m) fail('expecting name');
        i += m![0].length;
        return m![0];
    };
    const hex = (n: number) => {
        const h = src.slice(i, i + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) fail(`expecting ${n} hex chars`);
        i += n;
        return parseInt(h, 16);
    };
    const char = (): number => {
        if (src[i] === '\\') {
            const e = src[i + 1];
            i += 2;
            switch (e) {
                case 'x':
                    return hex(2);
                case 'u':
                    return hex(4);
                case 'U':
                    return hex(8);
                case 't':
                    return 9;
                case 'r':
                    return 13;
                case 'n':
                    return 10;
                case '\\':
                case '"':
                case '[':
                case ']':
                case '-':
                    return e.codePointAt(0)!;
                default:
                    return fail('unknown escape');
            }
        }
        if (i >= src.length) fail('unexpected end');
        const c = cp();
        i += c > 0xffff ? 2 : 1;
        return c;
    };
    const int = () => {
        const m = /^[0-9]+/.exec(src.slice(i));
        if (!m) fail('expecting integer');
        i += m![0].length;
        return Number(m![0]);
    };
    const alternatives = (nested: boolean): GbnfNode => {
        const alts = [sequence(nested)];
        while (src[i] === '|') {
            i++;
            space(true);
            alts.push(sequence(nested));
        }
        return alts.length === 1 ? alts[0] : { t: 'alt', alts };
    };
    const sequence = (nested: boolean): GbnfNode => {
        const items: GbnfNode[] = [];
        while (i < src.length) {
            const c = src[i];
            if (c === '"') {
                i++;
                const cps: number[] = [];
                while (src[i] !== '"') cps.push(char());
                i++;
                items.push({ t: 'lit', cps });
            } else if (c === '[') {
                i++;
                const neg = src[i] === '^';
                if (neg) i++;
                const ranges: [number, number][] = [];
                while (src[i] !== ']') {
                    const lo = char();
                    if (src[i] === '-' && src[i + 1] !== ']') {
                        i++;
                        ranges.push([lo, char()]);
                    } else ranges.push([lo, lo]);
                }
                i++;
                items.push({ t: 'class', neg, ranges });
            } else if (c === '.') {
                i++;
                items.push({ t: 'any' });
            } else if (c === '(') {
                i++;
                space(true);
                items.push(alternatives(true));
                if (src[i] !== ')') fail("expecting ')'");
                i++;
            } else if (/[a-zA-Z0-9-]/.test(c)) {
                const save = i;
                const n = name();
                const after = i;
                space(false);
                if (src.startsWith('::=', i)) {
                    i = save; // the next rule starts here
                    break;
                }
                i = after;
                items.push({ t: 'ref', name: n });
            } else if (c === '*' || c === '+' || c === '?' || c === '{') {
                if (items.length === 0) fail('repetition without item');
                let min = 0;
                let max = Infinity;
                if (c === '+') min = 1;
                if (c === '?') max = 1;
                i++;
                if (c === '{') {
                    space(nested);
                    min = int();
                    space(nested);
                    if (src[i] === '}') max = min;
                    else if (src[i] === ',') {
                        i++;
                        space(nested);
                        max = src[i] === '}' ? Infinity : int();
                        space(nested);
                    } else fail("expecting ','");
                    if (src[i] !== '}') fail("expecting '}'");
                    i++;
                    if (min > MAX_REPETITION || (max !== Infinity && max > MAX_REPETITION))
                        fail('repetition beyond llama.cpp limit');
                }
                items.push({ t: 'rep', item: items.pop()!, min, max });
            } else break;
            space(nested);
        }
        return items.length === 1 ? items[0] : { t: 'seq', items };
    };
    space(true);
    while (i < src.length) {
        const n = name();
        space(false);
        if (!src.startsWith('::=', i)) fail("expecting '::='");
        i += 3;
        space(true);
        if (rules.has(n)) fail(`rule ${n} defined twice`);
        rules.set(n, alternatives(false));
        if (i < src.length && src[i] !== '\n' && src[i] !== '\r') fail('expecting newline or end');
        space(true);
    }
    if (!rules.has('root')) throw new Error('GBNF: no root rule');
    const check = (node: GbnfNode): void => {
        if (node.t === 'ref' && !rules.has(node.name)) throw new Error(`GBNF: undefined rule ${node.name}`);
        if (node.t === 'seq') node.items.forEach(check);
        if (node.t === 'alt') node.alts.forEach(check);
        if (node.t === 'rep') check(node.item);
    };
    rules.forEach(check);
    return rules;
}

export function matches(rules: Map<string, GbnfNode>, input: string): boolean {
    const cps = [...input].map((c) => c.codePointAt(0)!);
    const memo = new Map<string, Set<number>>();
    const run = (node: GbnfNode, pos: number): Set<number> => {
        switch (node.t) {
            case 'lit':
                return node.cps.every((c, k) => cps[pos + k] === c) ? new Set([pos + node.cps.length]) : new Set();
            case 'class': {
                if (pos >= cps.length) return new Set();
                const inside = node.ranges.some(([lo, hi]) => cps[pos] >= lo && cps[pos] <= hi);
                return inside !== node.neg ? new Set([pos + 1]) : new Set();
            }
            case 'any':
                return pos < cps.length ? new Set([pos + 1]) : new Set();
            case 'ref': {
                const key = `${node.name}@${pos}`;
                let r = memo.get(key);
                if (!r) {
                    r = run(rules.get(node.name)!, pos);
                    memo.set(key, r);
                }
                return r;
            }
            case 'seq':
                return node.items.reduce(
                    (set, item) => {
                        const next = new Set<number>();
                        for (const p of set) for (const q of run(item, p)) next.add(q);
                        return next;
                    },
                    new Set([pos]),
                );
            case 'alt':
                return new Set(node.alts.flatMap((a) => [...run(a, pos)]));
            case 'rep': {
                const out = new Set<number>();
                let frontier = new Set([pos]);
                const seen = new Set<number>();
                for (let k = 0; frontier.size > 0; k++) {
                    if (k >= node.min) for (const p of frontier) out.add(p);
                    if (k >= node.max) break;
                    const next = new Set<number>();
                    for (const p of frontier)
                        for (const q of run(node.item, p)) if (k < node.min || !seen.has(q)) next.add(q);
                    for (const p of frontier) seen.add(p);
                    frontier = next;
                }
                return out;
            }
        }
    };
    return run(rules.get('root')!, 0).has(cps.length);
}
