// Packet sizes as the core sees them. The codec knows exact sizes and injects its own ByteMeasure; this
// estimate errs on the large side so a core without one never builds a packet over its budget.
import type { Message, Update } from './types.js';
import { utf8Length } from './utf8-length.js';

export interface ByteMeasure {
  /** Fixed bytes per packet (header, message count, label...). */
  packetOverhead: number;
  messageSize(m: Message): number;
  updateSize(u: Update): number;
}

/** UTF-8 length of a string without allocating, the same count the codec writes. */
export { utf8Length };

/**
 * Bytes each kind of field takes in an encoding. Which fields each message and update carries is the
 * core's to say, so the codec's exact sizes and this estimate are the one walk over different widths.
 */
export interface FieldWidths {
  /** Fixed bytes per packet (header, message count, label...). */
  readonly packetOverhead: number;
  /** The type byte(s) of a message or update. */
  readonly type: number;
  readonly seq: number;
  readonly incarnation: number;
  /** The length in front of a string's UTF-8 bytes. */
  readonly stringLength: number;
  readonly metaFlags: number;
  /** The count in front of the tags. */
  readonly tagCount: number;
}

/** A ByteMeasure that sums the widths of the fields each message and update carries. */
export function fieldMeasure(w: FieldWidths): ByteMeasure {
  const str = (s: string): number => w.stringLength + utf8Length(s);
  return {
    packetOverhead: w.packetOverhead,
    messageSize(m: Message): number {
      switch (m.type) {
        case 'ping':
          return w.type + w.seq + str(m.from) + str(m.fromAddr) + str(m.target);
        case 'ack':
        case 'nack':
          return w.type + w.seq + str(m.from);
        case 'ping-req':
          return w.type + w.seq + str(m.from) + str(m.fromAddr) + str(m.target) + str(m.targetAddr);
      }
    },
    updateSize(u: Update): number {
      switch (u.kind) {
        case 'alive': {
          let meta = str(u.meta.appAddr) + w.metaFlags + w.tagCount;
          for (const key of Object.keys(u.meta.tags)) meta += str(key) + str(u.meta.tags[key] ?? '');
          return w.type + str(u.name) + str(u.lifeId) + w.incarnation + str(u.gossipAddr) + str(u.grpcAddr) + meta;
        }
        case 'suspect':
        case 'dead':
          return w.type + str(u.name) + w.incarnation + str(u.from);
        case 'left':
          return w.type + str(u.name) + w.incarnation;
      }
    },
  };
}

/**
 * Assumed worst cases: a string = varint length (up to 5 bytes) + UTF-8 bytes; a number up to 10 bytes
 * (varint u64) or 8 (double); a type tag 2 bytes.
 */
export const estimateMeasure: ByteMeasure = fieldMeasure({
  packetOverhead: 16,
  type: 2,
  seq: 10,
  incarnation: 10,
  stringLength: 5,
  metaFlags: 1,
  tagCount: 5,
});

// Updates are immutable and, in the simulator, one object reaches thousands of cores: measure it once
// per measure. Weak, so nothing outlives the update.
const sizeCaches = new WeakMap<ByteMeasure, WeakMap<Update, number>>();

/** measure.updateSize(u), memoised per (measure, update object). */
export function cachedUpdateSize(measure: ByteMeasure, u: Update): number {
  let cache = sizeCaches.get(measure);
  if (cache === undefined) {
    cache = new WeakMap();
    sizeCaches.set(measure, cache);
  }
  let size = cache.get(u);
  if (size === undefined) {
    size = measure.updateSize(u);
    cache.set(u, size);
  }
  return size;
}
