// Zod building blocks for option values. Every value arrives either as text (flag, environment) or as a
// JSON value (config file), so each field accepts both and turns it into its resolved form.
import { z } from 'zod';
import { MAX_STRING_BYTES, MAX_TAGS_BYTES } from '../codec/constants.js';
import { withProtocolTag, type VersionRange } from '../codec/protocol-version.js';
import { tagsSize } from '../codec/size.js';
import { SPOKEN_RANGE } from '../codec/spoken.js';
import { strictUtf8Length } from '../codec/utf8.js';
import { parseHost, parseHostPort, isWildcardHost, type HostPort, type HostPortRules } from '../net/address.js';

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** '' and null mean "not set" for optional options, so a flag or file can clear a lower layer's value. */
function unsetToUndefined(v: unknown): unknown {
  return v === '' || v === null ? undefined : v;
}

export function integer(min: number, max: number) {
  const msg = `expected an integer from ${min} to ${max}`;
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z.number({ error: msg }).int(msg).min(min, msg).max(max, msg),
  );
}

export function boolean() {
  return z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    const word = v.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return v;
  }, z.boolean({ error: 'expected true or false' }));
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.join(', ')}` });
}

/** Printable text without whitespace or control characters, bounded in UTF-8 bytes. */
export function token(what: string, maxBytes: number) {
  return z.string({ error: `expected ${what}` }).check((ctx) => {
    const v = ctx.value;
    if (v.length === 0) ctx.issues.push({ code: 'custom', input: v, message: `${what} must not be empty` });
    else if (Buffer.byteLength(v, 'utf8') > maxBytes)
      ctx.issues.push({ code: 'custom', input: v, message: `${what} is longer than ${maxBytes} bytes` });
    else if (/[\s\p{Cc}]/u.test(v))
      ctx.issues.push({ code: 'custom', input: v, message: `${what} must not contain spaces or control characters` });
  });
}

export function optional<T extends z.ZodType>(schema: T) {
  return z.preprocess(unsetToUndefined, schema.optional()).transform((v): z.output<T> | null => v ?? null);
}

export function hostPort(rules: HostPortRules) {
  return z.string({ error: 'expected "host:port"' }).transform((s, ctx): HostPort => {
    const r = parseHostPort(s, rules);
    if (r.ok) return r.value;
    ctx.issues.push({ code: 'custom', input: s, message: r.reason });
    return z.NEVER;
  });
}

export function host() {
  return z.string({ error: 'expected a host name or IP address' }).transform((s, ctx): string => {
    const r = parseHost(s);
    if (r.ok) return r.value;
    ctx.issues.push({ code: 'custom', input: s, message: r.reason });
    return z.NEVER;
  });
}

/**
 * The app's address as peers should dial it. ":PORT" alone means "on the advertise host", which is what
 * a pod whose app listens on 0.0.0.0 wants; host is then "" until the schema fills it in.
 */
export function appAddress() {
  return z.string({ error: 'expected "host:port" or ":port"' }).transform((s, ctx): HostPort => {
    const portOnly = /^\s*:(\d{1,5})\s*$/.exec(s);
    if (portOnly) {
      const port = Number(portOnly[1]);
      if (port >= 1 && port <= 65535) return { host: '', port };
    }
    const r = parseHostPort(s, { allowPortZero: false });
    if (!r.ok) {
      ctx.issues.push({ code: 'custom', input: s, message: r.reason });
      return z.NEVER;
    }
    if (isWildcardHost(r.value.host)) {
      ctx.issues.push({
        code: 'custom',
        input: s,
        message: `"${s}" is a wildcard that peers cannot dial; give the address peers should use, or ":${r.value.port}" for the advertise host`,
      });
      return z.NEVER;
    }
    return r.value;
  });
}

export type AppHealth =
  | { readonly kind: 'http'; readonly url: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export function appHealth() {
  return z.string({ error: 'expected an http:// URL or tcp://host:port' }).transform((s, ctx): AppHealth => {
    const text = s.trim();
    const fail = (message: string): never => {
      ctx.issues.push({ code: 'custom', input: s, message });
      return z.NEVER as never;
    };
    if (/^tcp:\/\//i.test(text)) {
      const r = parseHostPort(text.slice('tcp://'.length), { allowPortZero: false });
      return r.ok ? { kind: 'tcp', host: r.value.host, port: r.value.port } : fail(r.reason);
    }
    if (/^https?:\/\//i.test(text)) {
      try {
        return { kind: 'http', url: new URL(text).href };
      } catch {
        return fail(`"${text}" is not a valid URL`);
      }
    }
    return fail(`"${text}" must start with http://, https:// or tcp://`);
  });
}

/** A seed: "host:port", or a DNS name / IP alone (port: null, meaning this member's gRPC port). */
export interface SeedSpec {
  readonly host: string;
  readonly port: number | null;
}

export const MAX_SEEDS = 64;

export function seeds() {
  return z.unknown().transform((v, ctx): SeedSpec[] => {
    let items: unknown[];
    if (typeof v === 'string') items = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    else if (Array.isArray(v)) items = v;
    else {
      ctx.issues.push({ code: 'custom', input: v, message: 'expected a comma-separated list (or a JSON array) of host:port or DNS names' });
      return z.NEVER;
    }
    if (items.length > MAX_SEEDS) {
      ctx.issues.push({ code: 'custom', input: v, message: `at most ${MAX_SEEDS} seeds` });
      return z.NEVER;
    }
    const out: SeedSpec[] = [];
    items.forEach((item, i) => {
      if (typeof item !== 'string') {
        ctx.issues.push({ code: 'custom', input: item, path: [i], message: 'expected a string' });
        return;
      }
      const r = parseHostPort(item, { allowPortZero: false, defaultPort: -1 });
      if (!r.ok) ctx.issues.push({ code: 'custom', input: item, path: [i], message: r.reason });
      else out.push({ host: r.value.host, port: r.value.port === -1 ? null : r.value.port });
    });
    return out;
  });
}

/**
 * The tags limit as the user writes them (k=v,k=v), derived from the alive record's tags block, which
 * is what bounds them: the block has a count byte and two length bytes per tag where the text has one
 * '=' per tag and one ',' fewer than tags, so any non-empty tag set takes 2 bytes more in the block.
 * A member speaking more than version 1 also gossips its range as a tag, out of the same block.
 */
export function maxTagsTextBytes(spoken: VersionRange): number {
  const protocolTagBytes = tagsSize(withProtocolTag({}, spoken)) - tagsSize({});
  return MAX_TAGS_BYTES - 2 - protocolTagBytes;
}

/** The tags limit of this build, as written (docs/config.md). */
export const MAX_TAGS_TEXT_BYTES = maxTagsTextBytes(SPOKEN_RANGE);
const TAG_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

/**
 * Tags as "k=v,k=v" or a JSON object. Accepted only if the alive record of a member speaking `spoken`
 * can carry them, measured by the codec itself: each value fits a wire string and the whole set, with
 * the member's protocol tag, fits the tags block.
 */
export function tags(spoken: VersionRange = SPOKEN_RANGE) {
  return z.unknown().transform((v, ctx): Record<string, string> => {
    const fail = (message: string): never => {
      ctx.issues.push({ code: 'custom', input: v, message });
      return z.NEVER as never;
    };
    const pairs: [string, unknown][] = [];
    if (typeof v === 'string') {
      for (const part of v.split(',')) {
        if (part.trim() === '') continue;
        const eq = part.indexOf('=');
        if (eq < 0) return fail(`"${part}" is not key=value`);
        pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
      }
    } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      pairs.push(...Object.entries(v));
    } else {
      return fail('expected key=value,key=value (or a JSON object of strings)');
    }
    const out: Record<string, string> = {};
    for (const [key, value] of pairs) {
      if (!TAG_KEY.test(key)) return fail(`tag key "${key}" must be 1-63 of A-Z a-z 0-9 . _ / - starting with a letter or digit`);
      if (typeof value !== 'string') return fail(`tag "${key}" must have a string value`);
      if (/\p{Cc}/u.test(value)) return fail(`tag "${key}" has a control character in its value`);
      const valueBytes = strictUtf8Length(value);
      if (valueBytes < 0) return fail(`tag "${key}" has a lone surrogate in its value (not encodable as UTF-8)`);
      if (valueBytes > MAX_STRING_BYTES) return fail(`tag "${key}" has a value of ${valueBytes} bytes; the limit is ${MAX_STRING_BYTES}`);
      if (Object.hasOwn(out, key)) return fail(`tag "${key}" is given twice`);
      out[key] = value;
    }
    if (tagsSize(withProtocolTag(out, spoken)) > MAX_TAGS_BYTES) {
      const textBytes = Buffer.byteLength(Object.entries(out).map(([k, val]) => `${k}=${val}`).join(','), 'utf8');
      return fail(
        `tags take ${textBytes} bytes as k=v,k=v; the limit is ${maxTagsTextBytes(spoken)} (${MAX_TAGS_BYTES} in the alive record that gossips them)`,
      );
    }
    return out;
  });
}
