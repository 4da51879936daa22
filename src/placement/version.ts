// The table version: a digest of everything the table is a function of (the sorted member set and the
// options), so equal versions mean equal answers, and two sidecars can compare versions cheaply.
import { xxh64Into, hashOut } from './xxh64-fast.js';

const encoder = new TextEncoder();

export interface VersionInput {
  readonly members: readonly Uint8Array[]; // sorted, UTF-8
  readonly shards: number;
  readonly replicas: number;
  readonly vnodes: number;
  readonly boundedLoad: number | null;
}

/** The canonical bytes the version digests (documented in docs/placement.md). */
export function versionText(input: VersionInput): Uint8Array {
  const head = encoder.encode(
    'swimring-placement-v1\n' +
      `shards=${input.shards}\n` +
      `replicas=${input.replicas}\n` +
      `vnodes=${input.vnodes}\n` +
      `bounded-load=${input.boundedLoad === null ? 'off' : String(input.boundedLoad)}\n`,
  );
  // Then each member as "<UTF-8 byte length>:<name bytes>\n".
  let total = head.length;
  for (const name of input.members) total += decimalDigits(name.length) + 2 + name.length;
  const out = new Uint8Array(total);
  out.set(head, 0);
  let at = head.length;
  for (const name of input.members) {
    const len = String(name.length);
    for (let i = 0; i < len.length; i++) out[at++] = len.charCodeAt(i);
    out[at++] = 0x3a; // ':'
    out.set(name, at);
    at += name.length;
    out[at++] = 0x0a; // '\n'
  }
  return out;
}

function decimalDigits(n: number): number {
  return String(n).length;
}

/** 16 lowercase hex digits: XXH64 of versionText. */
export function tableVersion(input: VersionInput): string {
  const text = versionText(input);
  xxh64Into(text, text.length);
  return (hashOut[0]! >>> 0).toString(16).padStart(8, '0') + (hashOut[1]! >>> 0).toString(16).padStart(8, '0');
}
