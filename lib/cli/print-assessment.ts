import type { Assessment } from '../guard/types.js';

/** One JSON line for --json: the verdict fields first, then the details. */
export function assessmentRecord(path: string, a: Assessment) {
    return {
        path,
        rating: a.rating,
        category: a.category,
        rationale: a.rationale,
        unsafe: a.unsafe,
        policyHash: a.policyHash,
        model: a.model.name,
        chatFormat: a.model.chatFormat,
        timings: a.timings,
        tokens: a.tokens,
        imagePipeline: a.imagePipeline,
        parsedBy: a.parsedBy,
        backend: a.backend,
        device: a.device,
    };
}

export function formatAssessment(path: string, a: Assessment): string {
    const mark = a.unsafe ? 'UNSAFE' : 'safe  ';
    const secs = (a.timings.totalMs / 1000).toFixed(1);
    return `${mark}  ${path}\n        category:  ${a.category}\n        rationale: ${a.rationale ?? '(none)'}\n        (${a.tokens.prompt} prompt tokens, ${a.tokens.image} of them image [${a.imagePipeline}], + ${a.tokens.generated} generated, ${secs} s on ${a.backend}: ${a.device})`;
}
