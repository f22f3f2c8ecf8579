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

    /** Flushes a trailing partial character (as U+FFFD) and returns the whole text. */
    finish(): string {
        this.#text += this.#decoder.decode();
        return this.#text;
    }

    get text(): string {
        return this.#text;
    }
}
