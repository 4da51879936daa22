// The claim record reader of the release before version 2 records, frozen as it shipped: it knows the
// version 1 layout only and refuses anything else with "unknown claim encoding version". Tests use it to
// stand in for a member of that release during a rolling upgrade (docs/wire.md "Claim records across
// versions"). Do not "fix" it: its refusals are what a newer member must avoid causing.
export interface V1Record {
  readonly id: string;
  readonly owner: string;
  readonly ownerLifeId: string;
  readonly ownerIncarnation: number;
  readonly claimedAtMs: number;
  readonly expiresAtMs: number | null;
  readonly released: boolean;
}

const strict = new TextDecoder('utf-8', { fatal: true });

export function decodeAsPreviousRelease(bytes: Uint8Array): { ok: true; record: V1Record } | { ok: false; reason: string } {
  let pos = 0;
  const need = (n: number): boolean => pos + n <= bytes.length;
  if (!need(1) || bytes[pos++] !== 1) return { ok: false, reason: 'unknown claim encoding version' };
  const strings: string[] = [];
  for (const what of ['id', 'owner', 'life id']) {
    if (!need(1)) return { ok: false, reason: `truncated before ${what} length` };
    const len = bytes[pos++] ?? 0;
    if (!need(len)) return { ok: false, reason: `truncated ${what}` };
    try {
      strings.push(strict.decode(bytes.subarray(pos, pos + len)));
    } catch {
      return { ok: false, reason: `${what} is not valid UTF-8` };
    }
    pos += len;
  }
  if (!need(1)) return { ok: false, reason: 'truncated before flags' };
  const flags = bytes[pos++] ?? 0;
  if ((flags & ~3) !== 0) return { ok: false, reason: 'unknown claim flags' };
  const hasExpiry = (flags & 2) !== 0;
  if (pos + (hasExpiry ? 24 : 16) !== bytes.length) return { ok: false, reason: 'claim record length mismatch' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number): number => Number(view.getBigUint64(at));
  return {
    ok: true,
    record: {
      id: strings[0] ?? '',
      owner: strings[1] ?? '',
      ownerLifeId: strings[2] ?? '',
      ownerIncarnation: u64(pos),
      claimedAtMs: u64(pos + 8),
      expiresAtMs: hasExpiry ? u64(pos + 16) : null,
      released: (flags & 1) !== 0,
    },
  };
}
