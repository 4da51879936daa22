// The UDP wire format for SWIM packets (specified in docs/wire.md). Free of node:* imports so the
// core and the simulator can measure and encode packets anywhere.

export {
  WIRE_VERSION,
  PACKET_OVERHEAD,
  MAX_PACKET_BYTES,
  MAX_UPDATES_PER_PACKET,
  MAX_STRING_BYTES,
  MAX_TAGS_BYTES,
  MAX_INCARNATION,
  MAX_SEQ,
  MESSAGE_TYPE,
  UPDATE_TYPE,
} from './constants.js';
export { DECODE_REJECT_REASONS } from './reasons.js';
export type { DecodeRejectReason, DecodeResult } from './reasons.js';
export { encodePacket } from './encode.js';
export { decodePacket } from './decode.js';
export { packetSize, messageSize, updateSize, wireMeasure } from './size.js';
export { validateUpdateForWire, validateMessageForWire, validatePacketForWire } from './validate.js';
