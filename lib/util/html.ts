// The two static HTML reports (a scan's, an evaluation's) share their page shell and their escaping: every text
// from results, manifests or model answers goes through escapeHtml, and a Content-Security-Policy says what loads.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML/SVG element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
    return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export interface HtmlPage {
    /** Plain text (escaped here). */
    title: string;
    /** The Content-Security-Policy, as the meta tag's content. */
    csp: string;
    css: string;
    /** Markup, already escaped. */
    body: string;
}

/** A standalone page: the document, its head (charset, CSP, viewport, no referrer, title, inline style) and body. */
export function htmlPage(page: HtmlPage): string {
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${page.csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(page.title)}</title>
<style>${page.css}</style>
</head>
<body>
${page.body}
</body>
</html>
`;
}
