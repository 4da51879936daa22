// "host:port" addresses as they travel through config, the wire and the core (which treats them as opaque).
import { isIP } from 'node:net';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parses "1.2.3.4:7946", "[::1]:7946" or "name.svc:7947". Returns a reason string on failure. */
export function parseHostPort(text: string, defaultPort?: number): HostPort | string {
  const s = text.trim();
  if (s.length === 0) return 'empty address';
  if (s.length > 255) return 'address longer than 255 characters';
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return `"${s}": missing "]" after IPv6 host`;
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest.length > 0) {
      if (!rest.startsWith(':')) return `"${s}": expected ":port" after "]"`;
      portText = rest.slice(1);
    }
    if (isIP(host) !== 6) return `"${s}": "${host}" is not an IPv6 address`;
  } else {
    const colons = s.split(':').length - 1;
    if (colons > 1) return `"${s}": IPv6 addresses must be written as [addr]:port`;
    const idx = s.lastIndexOf(':');
    host = idx >= 0 ? s.slice(0, idx) : s;
    portText = idx >= 0 ? s.slice(idx + 1) : undefined;
    if (host.length === 0) return `"${s}": missing host`;
    if (!/^[A-Za-z0-9._-]+$/.test(host)) return `"${s}": "${host}" is not a valid host name or IPv4 address`;
  }
  let port: number;
  if (portText === undefined) {
    if (defaultPort === undefined) return `"${s}": missing ":port"`;
    port = defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) return `"${s}": port "${portText}" is not a number`;
    port = Number(portText);
  }
  if (port < 0 || port > 65535) return `"${s}": port ${port} is out of range 0-65535`;
  return { host, port };
}

export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Like parseHostPort but throws; for addresses this process produced itself. */
export function mustParseHostPort(text: string): HostPort {
  const hp = parseHostPort(text);
  if (typeof hp === 'string') throw new RangeError(hp);
  return hp;
}
