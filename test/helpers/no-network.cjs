// Preloaded with `node --require` (NODE_OPTIONS, so child processes and worker threads get it too) by
// test/offline.test.ts: any outbound connection or name lookup, that is, a TCP/TLS/HTTP connect or a UDP send to
// anything but loopback, a Unix socket or a pipe, and any DNS query for a name other than localhost, is written
// to $LLAVAGUARD_NETWORK_LOG (so that code which catches the error is still caught) and then thrown.
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');
const dgram = require('node:dgram');

const log = process.env.LLAVAGUARD_NETWORK_LOG;
const LOOPBACK_NAMES = new Set(['localhost', 'localhost.', 'ip6-localhost']);

function isLoopback(host) {
    if (host === undefined || host === null || host === '') return true; // net defaults to localhost
    const h = String(host)
        .replace(/^\[|\]$/g, '')
        .toLowerCase();
    if (LOOPBACK_NAMES.has(h) || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    if (net.isIPv4(h)) return h.startsWith('127.');
    if (h.startsWith('::ffff:')) return h.slice(7).startsWith('127.');
    return false;
}

function refuse(what) {
    const line = `${process.pid} ${what}\n${new Error('stack').stack}\n`;
    if (log) fs.appendFileSync(log, line);
    const error = new Error(`offline check: ${what} is not allowed (llavaguard must not open outbound connections)`);
    error.code = 'ERR_LLAVAGUARD_OFFLINE';
    throw error;
}

/** The destination of Socket#connect's overloads: (options), (path), (port, host), ([options, cb]). */
function destination(args) {
    let a = args;
    if (Array.isArray(a[0])) a = a[0];
    const [first, second] = a;
    if (first && typeof first === 'object') return first.path !== undefined ? { path: first.path } : first;
    if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
    return { port: first, host: typeof second === 'string' ? second : undefined };
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
    const d = destination(args);
    if (d.path === undefined && !isLoopback(d.host)) refuse(`connect to ${d.host}:${d.port}`);
    return connect.apply(this, args);
};

for (const target of [dns, dns.promises]) {
    for (const name of Object.keys(target)) {
        if (!/^(lookup|lookupService|resolve\w*|reverse)$/.test(name) || typeof target[name] !== 'function') continue;
        const original = target[name];
        target[name] = function (host, ...rest) {
            if (!isLoopback(host)) refuse(`DNS ${name}(${host})`);
            return original.call(this, host, ...rest);
        };
    }
}

const send = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (msg, ...rest) {
    const host = rest.find((a) => typeof a === 'string');
    if (!isLoopback(host)) refuse(`UDP send to ${host}`);
    return send.call(this, msg, ...rest);
};
