// Errors a request can end in, each in OpenAI's error shape ({ error: { message, type, param, code } }), so the
// official clients raise their usual exception classes (BadRequestError, NotFoundError, RateLimitError, ...).

export type ApiErrorType =
    | 'invalid_request_error'
    | 'authentication_error'
    | 'rate_limit_error'
    | 'server_error'
    | 'timeout_error';

export interface ApiErrorBody {
    error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
    override readonly name = 'ApiError';
    readonly status: number;
    readonly type: ApiErrorType;
    readonly code: string | null;
    readonly param: string | null;
    /** Extra response headers (Retry-After on 429). */
    readonly headers: Record<string, string>;

    constructor(
        status: number,
        message: string,
        options: { type?: ApiErrorType; code?: string; param?: string; headers?: Record<string, string> } = {},
    ) {
        super(message);
        this.status = status;
        this.type = options.type ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
        this.code = options.code ?? null;
        this.param = options.param ?? null;
        this.headers = options.headers ?? {};
    }

    toJSON(): ApiErrorBody {
        return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
    }
}

export const badRequest = (message: string, param?: string, code = 'invalid_value') =>
    new ApiError(400, message, { param, code });

export const tooLarge = (message: string, param?: string) =>
    new ApiError(413, message, { param, code: 'payload_too_large' });
