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

// Assumed worst cases: a string = varint length (up to 5 bytes) + UTF-8 bytes; a number up to 10 bytes
// (varint u64) or 8 (double); a type tag 2 bytes.
const STR = 5;
const NUM = 10;
const TAG = 2;

function str(s: string): number {
  return STR + utf8Length(s);
}

export const estimateMeasure: ByteMeasure = {
  packetOverhead: 16,
  messageSize(m: Message): number {
    switch (m.type) {
      case 'ping':
        return TAG + NUM + str(m.from) + str(m.fromAddr) + str(m.target);
      case 'ack':
      case 'nack':
        return TAG + NUM + str(m.from);
      case 'ping-req':
        return TAG + NUM + str(m.from) + str(m.fromAddr) + str(m.target) + str(m.targetAddr);
    }
  },
  updateSize(u: Update): number {
    switch (u.kind) {
      case 'alive': {
        let tags = STR;
        for (const key of Object.keys(u.meta.tags)) tags += str(key) + str(u.meta.tags[key] ?? '');
        return TAG + str(u.name) + str(u.lifeId) + NUM + str(u.gossipAddr) + str(u.grpcAddr) + str(u.meta.appAddr) + 1 + tags;
      }
      case 'suspect':
      case 'dead':
        return TAG + str(u.name) + NUM + str(u.from);
      case 'left':
        return TAG + str(u.name) + NUM;
    }
  },
};

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
