// JSON of route answers that name a claimant. Kept apart from the ring's hand-written serializer
// (src/http/serialize.ts), whose caches assume the owner follows from the shard: a claimed answer
// is rare next to ring answers and is written plainly. Same fields, same order, plus "claimed" and
// "fence".
import type { RouteAnswer } from '../runtime/view.js';

function answerObject(a: RouteAnswer): object {
  const base = { key: a.key, shard: a.shard, owner: a.owner, replicas: a.replicas, version: a.version };
  return a.claimed === true ? { ...base, claimed: true, ...(a.fence === undefined ? {} : { fence: a.fence }) } : base;
}

export function claimedRouteAnswerBytes(a: RouteAnswer): Buffer {
  return Buffer.from(JSON.stringify(answerObject(a)), 'utf8');
}

/** True when any answer of a batch names a claimant (then the batch is written by routeBatchWithClaimsBytes). */
export function hasClaimedAnswer(answers: readonly RouteAnswer[]): boolean {
  for (let i = 0; i < answers.length; i++) if (answers[i]?.claimed === true) return true;
  return false;
}

export function routeBatchWithClaimsBytes(version: string, answers: readonly RouteAnswer[]): Buffer {
  return Buffer.from(JSON.stringify({ version, routes: answers.map(answerObject) }), 'utf8');
}
