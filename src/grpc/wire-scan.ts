// A look at protobuf bytes before decoding them: walks the top-level fields of a message without
// building anything, so a request with too many (or oversized) repeated entries is refused at the
// cost of one pass over its bytes instead of the cost of materializing it. The same field reader walks
// the hand-written Apply payloads (src/apply/payload.ts).

/** What one repeated length-delimited field holds, top level only. */
export interface RepeatedFieldScan {
  readonly count: number;
  /** Byte length of the largest entry, and its index (-1 when count is 0). */
  readonly largestBytes: number;
  readonly largestIndex: number;
}

export const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const MAX_VARINT_BYTES = 10;

/**
 * One top-level field as readField found it. The caller keeps one and readField overwrites it, so a
 * walk over a message allocates nothing per field (this walk guards every gRPC request).
 */
export interface WireField {
  field: number;
  wireType: number;
  /** The value of a varint field; 0 for the other wire types. */
  varint: number;
  /** Where a length-delimited field's bytes start and end; both equal `next` for the other wire types. */
  start: number;
  end: number;
  /** Where the next field starts. */
  next: number;
}

export function newWireField(): WireField {
  return { field: 0, wireType: 0, varint: 0, start: 0, end: 0, next: 0 };
}

/**
 * Reads the field that starts at `pos` into `out`. Returns a reason string when the bytes there are not
 * a well-formed field (truncated, bad wire type, groups, field number 0), so the caller can refuse them
 * without asking a decoder.
 */
export function readField(bytes: Uint8Array, pos: number, out: WireField): string | null {
  const end = bytes.length;
  const tag = readVarint(bytes, pos);
  if (typeof tag === 'string') return `field tag at byte ${pos}: ${tag}`;
  const at = tag.next;
  const field = Math.floor(tag.value / 8);
  const wireType = tag.value % 8;
  if (field === 0) return `field number 0 at byte ${at}`;
  out.field = field;
  out.wireType = wireType;
  out.varint = 0;
  let next: number;
  switch (wireType) {
    case WIRE_VARINT: {
      const v = readVarint(bytes, at);
      if (typeof v === 'string') return `field ${field} at byte ${at}: ${v}`;
      out.varint = v.value;
      next = v.next;
      break;
    }
    case WIRE_FIXED64:
      next = at + 8;
      break;
    case WIRE_FIXED32:
      next = at + 4;
      break;
    case WIRE_LEN: {
      const len = readVarint(bytes, at);
      if (typeof len === 'string') return `field ${field} length at byte ${at}: ${len}`;
      if (len.value > end - len.next) return `field ${field} at byte ${at}: length ${len.value} runs past the end`;
      out.start = len.next;
      out.end = len.next + len.value;
      out.next = out.end;
      return null;
    }
    default:
      return `field ${field} at byte ${at}: unsupported wire type ${wireType}`;
  }
  if (next > end) return `field ${field}: truncated`;
  out.start = next;
  out.end = next;
  out.next = next;
  return null;
}

/**
 * Counts the entries of length-delimited field `fieldNumber` at the top level of `bytes`, or the reason
 * the bytes are not a well-formed protobuf message.
 */
export function scanRepeatedField(bytes: Uint8Array, fieldNumber: number): RepeatedFieldScan | string {
  const current = newWireField();
  let pos = 0;
  let count = 0;
  let largestBytes = 0;
  let largestIndex = -1;
  while (pos < bytes.length) {
    const refused = readField(bytes, pos, current);
    if (refused !== null) return refused;
    pos = current.next;
    if (current.field === fieldNumber && current.wireType === WIRE_LEN) {
      const entryBytes = current.end - current.start;
      if (entryBytes > largestBytes || largestIndex < 0) {
        largestBytes = entryBytes;
        largestIndex = count;
      }
      count++;
    }
  }
  return { count, largestBytes, largestIndex };
}

/** Unsigned LEB128. Values above 2^53 lose precision, which only matters for skipped values. */
function readVarint(bytes: Uint8Array, start: number): { value: number; next: number } | string {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const pos = start + i;
    if (pos >= bytes.length) return 'truncated varint';
    const b = bytes[pos] ?? 0;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) return { value, next: pos + 1 };
  }
  return 'varint longer than 10 bytes';
}
