// Alive member records with addresses and app addresses, for route tests and the HTTP bench. Types only
// from src/, so a bench that loads the built code can use it without loading src/ as well.
import type { MemberRecord } from '../../src/core/types.js';
import { memberRecord } from '../support/member-record.js';

export function recordsOf(names: readonly string[], serving = true, port = 8080): Map<string, MemberRecord> {
  return new Map(
    names.map((name, i) => [
      name,
      memberRecord(name, {
        lifeId: `life-${i}`,
        gossipAddr: `10.0.0.${i}:7946`,
        grpcAddr: `10.0.0.${i}:7947`,
        meta: { appAddr: `10.0.0.${i}:${port}`, serving, tags: {} },
      }),
    ]),
  );
}
