// Hosts and "host:port" addresses, the one parser for all of them. Configuration values get the strict
// host check (this is where a typo is caught, so each failure says what was expected); addresses from
// the wire and this process's own output get a check of their shape only, as the core treats them as
// opaque strings.
import { isIP } from 'node:net';

export interface HostPort {
  /** IPv4 dotted quad, IPv6 without brackets, or a DNS name. */
  readonly host: string;
  readonly port: number;
}

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const HOST_SHAPE = /^[A-Za-z0-9._-]+$/;

/** A bare host: IPv4, IPv6 (brackets optional) or a DNS name. */
export function parseHost(text: string): Parsed<string> {
  const s = text.trim();
  if (s.length === 0) return { ok: false, reason: 'empty host' };
  if (s.startsWith('[') && s.endsWith(']')) return bracketedIPv6(s);
  if (isIP(s) !== 0) return { ok: true, value: s };
  if (s.includes(':')) return { ok: false, reason: `"${s}" is not an IPv6 address` };
  if (/^[\d.]+$/.test(s)) return { ok: false, reason: `"${s}" is not an IPv4 address` };
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length > 253 || !name.split('.').every((label) => DNS_LABEL.test(label))) {
    return { ok: false, reason: `"${s}" is not an IP address or DNS name` };
  }
  return { ok: true, value: s };
}

/** "[v6]" or a run of letters, digits and ". _ -": what a well-formed peer address may hold. */
function hostOfShape(text: string): Parsed<string> {
  if (text.startsWith('[')) return bracketedIPv6(text);
  if (!HOST_SHAPE.test(text)) return { ok: false, reason: `"${text}" is not a valid host name or IPv4 address` };
  return { ok: true, value: text };
}

/** `text` is "[...]". */
function bracketedIPv6(text: string): Parsed<string> {
  const inner = text.slice(1, -1);
  return isIP(inner) === 6 ? { ok: true, value: inner } : { ok: false, reason: `"${inner}" is not an IPv6 address` };
}

export interface HostPortRules {
  /** Port 0 asks the OS for a free port: fine for a listener, useless for an address peers dial. */
  readonly allowPortZero: boolean;
  /** Used when the text has no ":port"; without it a missing port is a problem. */
  readonly defaultPort?: number;
  /**
   * 'strict' (the default, for configuration): an IP address or a DNS name with valid labels. 'shape'
   * (for the wire and addresses this process formatted): bracketed IPv6 or letters, digits and ". _ -".
   */
  readonly hosts?: 'strict' | 'shape';
}

/** "1.2.3.4:7946", "[::1]:7946", "name.svc:7947"; a bare host when rules.defaultPort is set. */
export function parseHostPort(text: string, rules: HostPortRules): Parsed<HostPort> {
  const s = text.trim();
  if (s.length === 0) return { ok: false, reason: 'empty address' };
  let hostText: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return { ok: false, reason: `"${s}": missing "]" after the IPv6 address` };
    hostText = s.slice(0, end + 1);
    const rest = s.slice(end + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(':')) return { ok: false, reason: `"${s}": expected ":port" after "]"` };
      portText = rest.slice(1);
    }
  } else {
    const colons = s.split(':').length - 1;
    if (colons > 1) return { ok: false, reason: `"${s}": write IPv6 addresses in brackets, as [addr]:port` };
    const idx = s.indexOf(':');
    hostText = idx >= 0 ? s.slice(0, idx) : s;
    portText = idx >= 0 ? s.slice(idx + 1) : undefined;
    if (hostText.length === 0) return { ok: false, reason: `"${s}": missing host before ":"` };
  }
  const host = rules.hosts === 'shape' ? hostOfShape(hostText) : parseHost(hostText);
  if (!host.ok) return { ok: false, reason: `"${s}": ${host.reason}` };
  let port: number;
  if (portText === undefined) {
    if (rules.defaultPort === undefined) return { ok: false, reason: `"${s}": missing ":port"` };
    port = rules.defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) return { ok: false, reason: `"${s}": port "${portText}" is not a number` };
    port = Number(portText);
    const min = rules.allowPortZero ? 0 : 1;
    if (port < min || port > 65535) return { ok: false, reason: `"${s}": port ${port} is outside ${min}-65535` };
  }
  return { ok: true, value: { host: host.value, port } };
}

/** For addresses this process formatted itself (bind addresses, its own and its seeds'): throws if not one. */
export function mustParseHostPort(text: string): HostPort {
  const r = parseHostPort(text, { allowPortZero: true, hosts: 'shape' });
  if (!r.ok) throw new RangeError(r.reason);
  return r.value;
}

/** The inverse of parseHostPort: brackets IPv6 hosts. */
export function formatHostPort(addr: HostPort): string {
  return isIP(addr.host) === 6 ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1 and "localhost". */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  // IPv4-mapped loopback, e.g. ::ffff:127.0.0.1
  return /^::ffff:127\./i.test(host);
}

/** True for 0.0.0.0 and ::, which a listener can bind but nobody can dial. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || (isIP(host) === 6 && /^[0:]+$/.test(host));
}
