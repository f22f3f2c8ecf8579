// --api-key: a bearer token compared in constant time. Both sides are hashed first, so the comparison takes the
// same time whatever the length of what a client sends (timingSafeEqual needs equal lengths).
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** A checker for `Authorization: Bearer <key>`; throws a 401 ApiError when it is missing or wrong. */
export function bearerChecker(apiKey: string): (authorization: string | undefined) => void {
    if (typeof apiKey !== 'string' || apiKey.length === 0) throw new TypeError('apiKey must be a non-empty string');
    const expected = digest(apiKey);
    return (authorization) => {
        const match = /^Bearer[ ]+(.+)$/i.exec(authorization ?? '');
        const given = digest(match?.[1]?.trim() ?? '');
        // Always compare, also when the header is missing, so both paths cost the same.
        const same = timingSafeEqual(given, expected);
        if (!match || !same) {
            throw new ApiError(401, 'Missing or incorrect API key: send "Authorization: Bearer <key>".', {
                type: 'authentication_error',
                code: 'invalid_api_key',
            });
        }
    };
}
