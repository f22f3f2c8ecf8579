/** A verdict as LlavaGuard writes it: JSON.stringify(…, null, 4) lays out like json.dumps(…, indent=4) (without ensure_ascii). */
export const verdictText = (rating: string, category: string, rationale: string) =>
    JSON.stringify({ rating, category, rationale }, null, 4);
