/** Token pieces are bytes, and a UTF-8 character may span two tokens: decode as a stream. */
export class TokenTextDecoder {
    #decoder = new TextDecoder('utf-8', { fatal: false });
    #text = '';

    /** Adds one token's bytes; returns the text that became complete with it. */
    push(piece: Uint8Array): string {
        const chunk = this.#decoder.decode(piece, { stream: true });
        this.#text += chunk;
        return chunk;
    }

    /**
     * The whole text. A partial character at the end (a generation stopped inside a UTF-8 sequence) is left
     * out, as no token's text carried it: the final text is always what the token texts concatenate to.
     */
    finish(): string {
        return this.#text;
    }

    get text(): string {
        return this.#text;
    }
}
