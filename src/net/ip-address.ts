/**
 * Which IP addresses a server-side fetch may connect to. Everything the public internet cannot
 * route to — loopback, private, link-local (cloud metadata), CGNAT, multicast, documentation and
 * reserved blocks — is refused, including the IPv6 spellings that embed an IPv4 address (mapped,
 * compatible, NAT64, 6to4), because the kernel happily connects `::ffff:127.0.0.1` to localhost.
 * Ranges follow the IANA special-purpose address registries (RFC 6890 and successors).
 */
import { isIP, isIPv4 } from 'node:net';

export type AddressKind =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'shared'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'reserved'
  | 'tunnel'
  | 'invalid';

export interface AddressClass {
  kind: AddressKind;
  /** Words for messages, e.g. "a private address". */
  label: string;
  /** The special-purpose block matched, e.g. `10.0.0.0/8`; absent for public addresses. */
  range?: string;
  /** For IPv6 forms that carry an IPv4 address: that address, and the form's name. */
  embedded?: { ipv4: string; via: string };
}

/** A parsed network, for allow-lists: `10.0.0.0/8`, `fd00::/8`, or a bare address. */
export interface Cidr {
  text: string;
  bytes: Uint8Array;
  bits: number;
}

/** IPv4 → 4 bytes, IPv6 → 16 bytes (zone id dropped); undefined when not an IP literal. */
export function parseIp(text: string): Uint8Array | undefined {
  const ip = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const version = isIP(ip);
  if (version === 4) return Uint8Array.from(ip.split('.').map(Number));
  if (version !== 6) return undefined;
  const bare = ip.split('%')[0] as string;
  const halves = bare.split('::');
  const groups = (part: string | undefined): number[] => {
    if (!part) return [];
    return part.split(':').flatMap((g) => {
      if (!isIPv4(g)) return [parseInt(g, 16)];
      const [a, b, c, d] = g.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const all = halves.length === 2 ? [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail] : head;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

export function parseCidr(text: string): Cidr {
  const [address = '', prefix] = text.trim().split('/');
  const bytes = parseIp(address);
  const max = bytes ? bytes.length * 8 : 0;
  const bits = prefix === undefined ? max : Number(prefix);
  if (!bytes || !/^\d*$/.test(prefix ?? '') || !Number.isInteger(bits) || bits < 0 || bits > max) {
    throw new Error(`"${text}" is not an IP address or CIDR block (e.g. 10.0.0.0/8, fd00::/8, 127.0.0.1)`);
  }
  return { text: text.trim(), bytes, bits };
}

function inNetwork(bytes: Uint8Array, net: Cidr): boolean {
  if (bytes.length !== net.bytes.length) return false;
  for (let bit = 0; bit < net.bits; bit += 8) {
    const mask = net.bits - bit >= 8 ? 0xff : (0xff << (8 - (net.bits - bit))) & 0xff;
    if (((bytes[bit / 8] as number) & mask) !== ((net.bytes[bit / 8] as number) & mask)) return false;
  }
  return true;
}

/** True when `ip` lies in one of `nets`; an IPv4-mapped IPv6 address also matches IPv4 blocks. */
export function inAnyNetwork(ip: string, nets: readonly Cidr[]): boolean {
  const bytes = parseIp(ip);
  if (!bytes) return false;
  const v4 = bytes.length === 16 && inNetwork(bytes, MAPPED) ? bytes.subarray(12) : undefined;
  return nets.some((net) => inNetwork(bytes, net) || (v4 !== undefined && inNetwork(v4, net)));
}

interface Block extends Cidr {
  kind: AddressKind;
  label: string;
}

const block = (text: string, kind: AddressKind, label: string): Block => ({ ...parseCidr(text), kind, label });

// First match wins, so narrower blocks come before the blocks that contain them.
const IPV4_BLOCKS: readonly Block[] = [
  block('0.0.0.0/32', 'unspecified', 'an unspecified address'),
  block('0.0.0.0/8', 'reserved', 'a "this network" address'),
  block('10.0.0.0/8', 'private', 'a private address'),
  block('100.64.0.0/10', 'shared', 'a carrier-grade NAT address'),
  block('127.0.0.0/8', 'loopback', 'a loopback address'),
  block('169.254.169.254/32', 'link_local', 'a link-local address (the cloud metadata service)'),
  block('169.254.0.0/16', 'link_local', 'a link-local address'),
  block('172.16.0.0/12', 'private', 'a private address'),
  block('192.0.0.0/24', 'reserved', 'an IETF protocol address'),
  block('192.0.2.0/24', 'documentation', 'a documentation address'),
  block('192.88.99.0/24', 'reserved', 'a 6to4 relay address'),
  block('192.168.0.0/16', 'private', 'a private address'),
  block('198.18.0.0/15', 'reserved', 'a benchmarking address'),
  block('198.51.100.0/24', 'documentation', 'a documentation address'),
  block('203.0.113.0/24', 'documentation', 'a documentation address'),
  block('224.0.0.0/4', 'multicast', 'a multicast address'),
  block('255.255.255.255/32', 'broadcast', 'a broadcast address'),
  block('240.0.0.0/4', 'reserved', 'a reserved address'),
];

const MAPPED = parseCidr('::ffff:0:0/96');

/** IPv6 forms whose low 32 bits (or, for 6to4, bits 16–48) are an IPv4 address the packet reaches. */
const EMBEDDING: readonly { net: Cidr; via: string; offset: number }[] = [
  { net: MAPPED, via: 'IPv4-mapped IPv6', offset: 12 },
  { net: parseCidr('::ffff:0:0:0/96'), via: 'IPv4-translated IPv6', offset: 12 },
  { net: parseCidr('64:ff9b::/96'), via: 'NAT64', offset: 12 },
  { net: parseCidr('2002::/16'), via: '6to4', offset: 2 },
  { net: parseCidr('::/96'), via: 'IPv4-compatible IPv6', offset: 12 },
];

const IPV6_BLOCKS: readonly Block[] = [
  block('::/128', 'unspecified', 'an unspecified address'),
  block('::1/128', 'loopback', 'a loopback address'),
  block('64:ff9b:1::/48', 'reserved', 'a local-use NAT64 address'),
  block('100::/64', 'reserved', 'a discard-only address'),
  block('2001::/32', 'tunnel', 'a Teredo tunnel address'),
  block('2001:db8::/32', 'documentation', 'a documentation address'),
  block('2001::/23', 'reserved', 'an IETF protocol address'),
  block('3fff::/20', 'documentation', 'a documentation address'),
  block('5f00::/16', 'reserved', 'a segment-routing address'),
  block('fc00::/7', 'private', 'a private (unique local) address'),
  block('fe80::/10', 'link_local', 'a link-local address'),
  block('fec0::/10', 'private', 'a private (site-local) address'),
  block('ff00::/8', 'multicast', 'a multicast address'),
];

// Everything routable on the IPv6 internet today is inside 2000::/3.
const GLOBAL_UNICAST = parseCidr('2000::/3');

function classifyV4(bytes: Uint8Array): AddressClass {
  const hit = IPV4_BLOCKS.find((b) => inNetwork(bytes, b));
  return hit ? { kind: hit.kind, label: hit.label, range: hit.text } : { kind: 'public', label: 'a public address' };
}

/** Sorts an address into the special-purpose block it belongs to (`public` when none). */
export function classifyAddress(ip: string): AddressClass {
  const bytes = parseIp(ip);
  if (!bytes) return { kind: 'invalid', label: 'not an IP address' };
  if (bytes.length === 4) return classifyV4(bytes);
  const special = IPV6_BLOCKS.slice(0, 2).find((b) => inNetwork(bytes, b));
  if (special) return { kind: special.kind, label: special.label, range: special.text };
  const embedding = EMBEDDING.find((e) => inNetwork(bytes, e.net));
  if (embedding) {
    const v4 = bytes.subarray(embedding.offset, embedding.offset + 4);
    const inner = classifyV4(v4);
    const embedded = { ipv4: Array.from(v4).join('.'), via: embedding.via };
    // The deprecated compatible form is never routed as IPv4 any more: refuse it outright.
    if (inner.kind === 'public' && embedding.via === 'IPv4-compatible IPv6') {
      return { kind: 'reserved', label: 'a deprecated IPv4-compatible IPv6 address', range: embedding.net.text, embedded };
    }
    return { ...inner, embedded };
  }
  const hit = IPV6_BLOCKS.find((b) => inNetwork(bytes, b));
  if (hit) return { kind: hit.kind, label: hit.label, range: hit.text };
  if (!inNetwork(bytes, GLOBAL_UNICAST)) return { kind: 'reserved', label: 'a reserved address (outside 2000::/3)' };
  return { kind: 'public', label: 'a public address' };
}

/** "a private address 10.0.0.1", "a loopback address ::ffff:7f00:1 (IPv4-mapped IPv6 for 127.0.0.1)". */
export function describeAddress(ip: string, cls: AddressClass = classifyAddress(ip)): string {
  const via = cls.embedded ? ` (${cls.embedded.via} for ${cls.embedded.ipv4})` : '';
  return `${cls.label} ${ip}${via}`;
}
