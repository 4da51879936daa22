// The one factory for member records in tests: an alive member with no app and no tags, on loopback
// addresses, with any field overridden. Types only from src/, so benches that load the built code can
// use it too.
import type { MemberMeta, MemberRecord } from '../../src/core/types.js';

/** No app address, serving, no tags. */
export const PLAIN_META: MemberMeta = { appAddr: '', serving: true, tags: {} };

export function memberRecord(name: string, overrides: Partial<MemberRecord> = {}): MemberRecord {
  return {
    name,
    lifeId: `${name}-life`,
    incarnation: 1,
    state: 'alive',
    gossipAddr: '127.0.0.1:7946',
    grpcAddr: '127.0.0.1:7947',
    meta: PLAIN_META,
    ...overrides,
  };
}
