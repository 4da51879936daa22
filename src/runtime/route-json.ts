// The JSON of route answers, shared by the runtime's pre-encoded answers (route-index.ts) and the HTTP
// serializers: one definition, so every path writes byte-identical answers.
import type { RouteOwner } from './view.js';

// JSON must escape only the quote, the backslash and control characters; anything else passes as is.
// Lone surrogates never get here: keys with one are refused, and names and addresses arrive as strict UTF-8.
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

export function ownerJson(owner: RouteOwner | null): string {
  if (owner === null) return 'null';
  const a = owner.addresses;
  return `{"name":${jsonString(owner.name)},"addresses":{"gossip":${jsonString(a.gossip)},"grpc":${jsonString(a.grpc)},"app":${jsonString(a.app)}},"serving":${owner.serving ? 'true' : 'false'}}`;
}

/** Everything after an answer's shard number, from already-encoded owners and version. */
export function tailJson(owner: string, replicas: readonly string[], version: string): string {
  return `,"owner":${owner},"replicas":[${replicas.join(',')}],"version":${version}}`;
}
