// Which addresses a remote image may be fetched from: public unicast only. Loopback, private, link-local,
// shared (CGNAT), multicast, reserved and the IPv6 forms that embed an IPv4 address are refused, so that an
// image URL cannot reach the server's own host or its network (SSRF).
import { BlockList, isIP } from 'node:net';

const NOT_PUBLIC_V4: [string, number][] = [
    ['0.0.0.0', 8], // "this network"
    ['10.0.0.0', 8],
    ['100.64.0.0', 10], // shared address space (CGNAT)
    ['127.0.0.0', 8],
    ['169.254.0.0', 16], // link-local (cloud metadata services live here)
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
];

const NOT_PUBLIC_V6: [string, number][] = [
    ['::', 128],
    ['::1', 128],
    ['::ffff:0:0', 96], // IPv4-mapped: judged by the IPv4 address instead (below)
    ['64:ff9b::', 96], // NAT64
    ['64:ff9b:1::', 48],
    ['100::', 64], // discard
    ['2001:db8::', 32], // documentation
    ['2002::', 16], // 6to4 (embeds any IPv4 address)
    ['fc00::', 7], // unique local
    ['fe80::', 10], // link-local
    ['fec0::', 10], // site-local (deprecated)
    ['ff00::', 8], // multicast
];

const blocked = new BlockList();
for (const [net, prefix] of NOT_PUBLIC_V4) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of NOT_PUBLIC_V6) blocked.addSubnet(net, prefix, 'ipv6');

/** Why an address may not be fetched from, or null when it is a public unicast address. */
export function refusedAddressReason(address: string): string | null {
    const family = isIP(address);
    if (family === 0) return `"${address}" is not an IP address`;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return refusedAddressReason(mapped[1]!);
    return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6')
        ? `${address} is a loopback, private, link-local or reserved address`
        : null;
}
