// Member names as the ring sees them: a set of non-empty, well-formed strings, ordered by their UTF-8
// bytes (the order every language can reproduce; JavaScript's own string order is UTF-16 code units,
// which differs for characters above U+FFFF).
import { MAX_MEMBERS, MAX_NAME_BYTES } from './constants.js';

const encoder = new TextEncoder();

export interface SortedMembers {
  /** Distinct names in ascending UTF-8 byte order. */
  readonly names: readonly string[];
  /** names[i] as UTF-8. */
  readonly bytes: readonly Uint8Array[];
}

/** -1, 0 or 1 as a is before, equal to or after b, bytewise. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Why `name` cannot be a member name, or null when it can. */
export function memberNameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `member names must be strings, got ${typeof name}`;
  if (name.length === 0) return 'member names must not be empty';
  if (name.length > MAX_NAME_BYTES) return `member name longer than ${MAX_NAME_BYTES} bytes: ${JSON.stringify(name.slice(0, 40))}...`;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = name.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `member name ${JSON.stringify(name)} has a lone surrogate (not valid UTF-8)`;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return `member name ${JSON.stringify(name)} has a lone surrogate (not valid UTF-8)`;
  }
  if (encoder.encode(name).length > MAX_NAME_BYTES) return `member name longer than ${MAX_NAME_BYTES} bytes: ${JSON.stringify(name.slice(0, 40))}...`;
  return null;
}

/**
 * The member set in canonical order: duplicates dropped, sorted by UTF-8 bytes.
 * Throws RangeError naming the first bad name.
 */
export function sortMembers(members: readonly string[]): SortedMembers {
  if (!Array.isArray(members)) throw new RangeError('members must be an array of names');
  if (members.length > MAX_MEMBERS) throw new RangeError(`at most ${MAX_MEMBERS} members, got ${members.length}`);
  const unique = new Set<string>();
  for (const name of members) {
    const problem = memberNameProblem(name);
    if (problem !== null) throw new RangeError(problem);
    unique.add(name);
  }
  const entries = [...unique].map((name) => ({ name, bytes: encoder.encode(name) }));
  entries.sort((a, b) => compareBytes(a.bytes, b.bytes));
  return { names: entries.map((e) => e.name), bytes: entries.map((e) => e.bytes) };
}
