// Escaping for the report's HTML: every text that comes from the results (paths, categories,
// model rationales, error messages) goes through escapeHtml.
import { sep } from 'node:path';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML/SVG element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
    return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** A relative path as a URL reference: each segment percent-encoded ('/' separated). */
export function pathToHref(relativePath: string): string {
    return relativePath
        .split(sep === '\\' ? /[\\/]/ : '/')
        .map(encodeURIComponent)
        .join('/');
}
