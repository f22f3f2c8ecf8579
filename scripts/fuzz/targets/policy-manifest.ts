// Fuzz target (d): the text a user hands us besides images and models: a policy JSON file, a scan manifest
// (JSONL or CSV) and an evaluation manifest (JSONL or CSV). The first byte picks the parser, the rest is the
// file's text. Only the documented errors may come out: PolicyValidationError (and the JSON syntax error that
// Policy.load turns into its message), ManifestError, EvalManifestError. An accepted policy must render.
import { EvalManifestError, parseManifest } from '../../../lib/eval/manifest.js';
import { Policy } from '../../../lib/policy/policy.js';
import { PolicyValidationError } from '../../../lib/policy/schema.js';
import { ManifestError, pathsFromCsv, pathsFromJsonl } from '../../../lib/scan/manifest.js';
import { refusedOnlyWith } from './expect.js';

export const PARSERS = ['policy-json', 'scan-jsonl', 'scan-csv', 'eval-jsonl', 'eval-csv'] as const;

export async function fuzz(data: Buffer): Promise<void> {
    if (data.length === 0) return;
    const parser = PARSERS[data[0]! % PARSERS.length];
    const text = data.subarray(1).toString('utf8');
    switch (parser) {
        case 'policy-json': {
            let json: unknown;
            try {
                json = JSON.parse(text);
            } catch (error) {
                if (error instanceof SyntaxError) return;
                throw error;
            }
            const r = await refusedOnlyWith(() => Policy.fromJSON(json, 'fuzz.json'), [PolicyValidationError]);
            if (r.ok) {
                const policy = r.value;
                if (policy.render().length === 0) throw new Error('an accepted policy rendered to nothing');
                Policy.fromJSON(JSON.parse(JSON.stringify(policy.toJSON())), 'round trip');
            }
            return;
        }
        case 'scan-jsonl':
            await refusedOnlyWith(() => pathsFromJsonl(text, 'fuzz.jsonl'), [ManifestError]);
            return;
        case 'scan-csv':
            await refusedOnlyWith(() => pathsFromCsv(text, 'fuzz.csv'), [ManifestError]);
            return;
        case 'eval-jsonl':
        case 'eval-csv':
            await refusedOnlyWith(
                () => parseManifest(text, { format: parser === 'eval-csv' ? 'csv' : 'jsonl', baseDir: '/fuzz' }),
                [EvalManifestError],
            );
            return;
    }
}
