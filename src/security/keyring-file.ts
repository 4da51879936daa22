// Where keys come from and go back to: the keyring file (--keyring-file) or SWIMRING_KEYRING, never a
// flag (a flag is visible to anyone who can run `ps`). Formats: base64 keys one per line, the first
// primary, `#` comments and blank lines ignored; Serf's keyring file (a JSON array of base64 strings,
// primary first); and for the environment, commas as well as newlines between keys.
// Every problem names a line or a position, never the key text: errors end up in logs.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { KEY_BYTES } from './keyring.js';

export const KEYRING_ENV = 'SWIMRING_KEYRING';
/** A keyring file is a few hundred bytes; anything much bigger is not one. */
const MAX_KEYRING_TEXT = 64 * 1024;
const MAX_KEYS = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export type ParsedKeys = { readonly ok: true; readonly keys: Buffer[] } | { readonly ok: false; readonly problem: string };

/** One base64 key; a reason (without the input) when it is not exactly 32 bytes of strict base64. */
export function decodeKey(text: string): Buffer | string {
  const t = text.trim();
  if (t === '') return 'empty key';
  if (!BASE64.test(t) || t.length % 4 !== 0) return 'not base64';
  const key = Buffer.from(t, 'base64');
  if (key.length !== KEY_BYTES) return `decodes to ${key.length} bytes; a key is ${KEY_BYTES} bytes (AES-256)`;
  return key;
}

export function encodeKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}

/** A fresh random key, base64: what `swimring keys generate` prints. */
export function generateKey(): string {
  return encodeKey(randomBytes(KEY_BYTES));
}

/** Parses a keyring file's text or SWIMRING_KEYRING; `where` names the source in problems. */
export function parseKeyring(text: string, where: string, allowCommas = false): ParsedKeys {
  if (text.length > MAX_KEYRING_TEXT) return { ok: false, problem: `${where}: over ${MAX_KEYRING_TEXT} bytes; not a keyring` };
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) return parseSerfJson(trimmed, where);
  const keys: Buffer[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const items = allowCommas ? line.split(',') : [line];
    for (const item of items) {
      if (allowCommas && item.trim() === '') continue;
      const key = decodeKey(item);
      if (typeof key === 'string') return { ok: false, problem: `${where} line ${i + 1}: ${key}` };
      keys.push(key);
    }
  }
  return finish(keys, where);
}

function parseSerfJson(text: string, where: string): ParsedKeys {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problem: `${where}: starts with "[" but is not valid JSON (Serf's keyring format is a JSON array of base64 keys)` };
  }
  if (!Array.isArray(parsed)) return { ok: false, problem: `${where}: expected a JSON array of base64 keys` };
  const keys: Buffer[] = [];
  for (let i = 0; i < parsed.length; i++) {
    const item: unknown = parsed[i];
    if (typeof item !== 'string') return { ok: false, problem: `${where} entry ${i + 1}: expected a base64 string` };
    const key = decodeKey(item);
    if (typeof key === 'string') return { ok: false, problem: `${where} entry ${i + 1}: ${key}` };
    keys.push(key);
  }
  return finish(keys, where);
}

function finish(keys: Buffer[], where: string): ParsedKeys {
  if (keys.length === 0) return { ok: false, problem: `${where}: no key found` };
  if (keys.length > MAX_KEYS) return { ok: false, problem: `${where}: ${keys.length} keys; at most ${MAX_KEYS}` };
  return { ok: true, keys };
}

export interface KeyringSource {
  readonly keys: Buffer[];
  /** The file to write rotations back to; null when the keys came from the environment. */
  readonly file: string | null;
}

/**
 * The configured keyring, or null when none is configured. The file wins over the environment
 * (naming both is refused: which one is meant would be a guess).
 */
export function loadKeyringSource(file: string | null, env: NodeJS.ProcessEnv): { ok: true; source: KeyringSource | null } | { ok: false; problem: string } {
  const fromEnv = env[KEYRING_ENV];
  if (file !== null && fromEnv !== undefined && fromEnv !== '') {
    return { ok: false, problem: `both --keyring-file and ${KEYRING_ENV} are set; use one` };
  }
  if (file !== null) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return { ok: false, problem: `keyring file ${file}: cannot read it (${code})` };
    }
    const parsed = parseKeyring(text, `keyring file ${file}`);
    return parsed.ok ? { ok: true, source: { keys: parsed.keys, file } } : { ok: false, problem: parsed.problem };
  }
  if (fromEnv !== undefined && fromEnv !== '') {
    const parsed = parseKeyring(fromEnv, KEYRING_ENV, true);
    return parsed.ok ? { ok: true, source: { keys: parsed.keys, file: null } } : { ok: false, problem: parsed.problem };
  }
  return { ok: true, source: null };
}

/**
 * Writes the keys back, primary first, so a restart keeps a rotation. Atomic: a temporary file in the
 * same directory, mode 0600 from creation, renamed over the old one; a crash leaves the old or the new
 * file, never half of one.
 */
export function writeKeyringFile(file: string, keys: readonly Uint8Array[]): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const text = `# swimring gossip keyring: base64 AES-256 keys, the first one primary. Written by swimring.\n${keys.map(encodeKey).join('\n')}\n`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
