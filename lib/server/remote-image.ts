// Fetches an http(s) image URL for --allow-remote-images: the host name is resolved first, every address it
// resolves to is checked (refusedAddressReason), and the connection goes to the checked address (the socket's
// lookup returns it, so nothing is resolved twice and a DNS answer cannot change in between). No redirects, a
// byte cap while reading, a timeout over the whole exchange.
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { refusedAddressReason } from './address-policy.js';
import { ApiError, badRequest, tooLarge } from './errors.js';

export interface ResolvedAddress {
    address: string;
    family: 4 | 6;
}

/** Host name to addresses (tests pass a stub; the default asks the system's resolver). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
    (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
        address: a.address,
        family: a.family === 6 ? 6 : 4,
    }));

export interface RemoteImageOptions {
    maxBytes: number;
    timeoutMs: number;
    resolve: HostResolver;
    /** Which addresses may be connected to; default: public unicast only. */
    refusedReason?: (address: string) => string | null;
    signal?: AbortSignal;
}

export async function fetchRemoteImage(url: URL, param: string, o: RemoteImageOptions): Promise<Buffer> {
    const refused = o.refusedReason ?? refusedAddressReason;
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: ResolvedAddress[];
    try {
        addresses = isIP(hostname)
            ? [{ address: hostname, family: isIP(hostname) as 4 | 6 }]
            : await o.resolve(hostname);
    } catch (error) {
        throw badRequest(`Cannot resolve the image host "${hostname}": ${(error as Error).message}`, param);
    }
    if (addresses.length === 0) throw badRequest(`The image host "${hostname}" has no address`, param);
    for (const a of addresses) {
        const reason = refused(a.address);
        if (reason) {
            throw badRequest(
                `Image URL refused: "${hostname}" resolves to ${reason}; only public addresses are fetched`,
                param,
                'image_url_refused',
            );
        }
    }
    const target = addresses[0]!;
    const pinned: LookupFunction = (_host, options, callback) => {
        if ((options as { all?: boolean }).all) callback(null, [{ address: target.address, family: target.family }]);
        else callback(null, target.address, target.family);
    };
    const signals = [AbortSignal.timeout(o.timeoutMs), ...(o.signal ? [o.signal] : [])];
    const signal = AbortSignal.any(signals);
    const client = url.protocol === 'https:' ? https : http;
    return new Promise<Buffer>((resolve, reject) => {
        const request = client.get(
            url,
            { lookup: pinned, signal, headers: { accept: 'image/*' }, agent: false },
            (response) => {
                const status = response.statusCode ?? 0;
                if (status !== 200) {
                    response.resume();
                    const note = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
                    reject(
                        badRequest(`Fetching the image URL gave HTTP ${status}${note}`, param, 'image_fetch_failed'),
                    );
                    return;
                }
                const declared = Number(response.headers['content-length']);
                if (Number.isFinite(declared) && declared > o.maxBytes) {
                    response.destroy();
                    reject(tooLarge(`The remote image is ${declared} bytes, over the limit of ${o.maxBytes}`, param));
                    return;
                }
                const chunks: Buffer[] = [];
                let size = 0;
                response.on('data', (chunk: Buffer) => {
                    size += chunk.length;
                    if (size > o.maxBytes) {
                        response.destroy();
                        reject(tooLarge(`The remote image is over the limit of ${o.maxBytes} bytes`, param));
                        return;
                    }
                    chunks.push(chunk);
                });
                response.on('end', () => resolve(Buffer.concat(chunks)));
                response.on('error', (error) => reject(fetchError(error, param, o.timeoutMs)));
            },
        );
        request.on('error', (error) => reject(fetchError(error, param, o.timeoutMs)));
    });
}

function fetchError(error: Error, param: string, timeoutMs: number): ApiError {
    if (error.name === 'AbortError' || error.name === 'TimeoutError')
        return new ApiError(400, `Fetching the image URL was stopped (timeout ${timeoutMs} ms, or the request ended)`, {
            param,
            code: 'image_fetch_timeout',
        });
    return badRequest(`Fetching the image URL failed: ${error.message}`, param, 'image_fetch_failed');
}
