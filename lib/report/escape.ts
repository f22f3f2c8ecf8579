// Escaping for the report's HTML: every text that comes from the results (paths, categories,
// model rationales, error messages) goes through escapeHtml.
import { sep } from 'node:path';

export { escapeHtml } from '../util/html.js';

/** A relative path as a URL reference: each segment percent-encoded ('/' separated). */
export function pathToHref(relativePath: string): string {
    return relativePath
        .split(sep === '\\' ? /[\\/]/ : '/')
        .map(encodeURIComponent)
        .join('/');
}
