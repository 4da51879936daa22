// Who may announce a leave over Closing: only the leaving member itself. A Closing marks its name left
// at once, cluster-wide, so a caller that could name anyone could evict any member with one call.
// docs/grpc.md "Closing" states the rule.
import { isIP } from 'node:net';
import type { MemberRecord } from '../core/types.js';
import { peerHost } from '../grpc/rate-limit.js';
import { isLoopbackHost, parseHostPort } from '../net/address.js';

export interface ClosingCaller {
  /** header.sender: the member name the caller claims to be. */
  readonly sender: string;
  /** The transport peer as gRPC reports it ("ipv4:10.0.0.1:5000"). */
  readonly peer: string;
  /** The caller proved it holds the cluster's gossip key (a verified key proof). */
  readonly provedKey: boolean;
}

/**
 * null when `caller` may announce that `name` leaves; otherwise why not. The name must be the caller's
 * own (header.sender). Then, unless the caller proved the gossip key, the connection must come from the
 * member's known address: the host of its gRPC or gossip address as this member holds it, or loopback
 * when that host is loopback too (processes on one host cannot be told apart by address). A member we
 * do not know cannot be marked left by a Closing anyway, so its name is let through.
 */
export function closingRefusal(name: string, caller: ClosingCaller, known: MemberRecord | undefined): string | null {
  if (caller.sender !== name) return `Closing names "${name}" but the caller is "${caller.sender}": a member may only announce its own leave`;
  if (known === undefined || caller.provedKey) return null;
  const from = normalizeHost(peerHost(caller.peer));
  const hosts = [...new Set([known.grpcAddr, known.gossipAddr].map(hostOf).filter((h): h is string => h !== null))];
  if (hosts.includes(from)) return null;
  if (isLoopbackHost(from) && hosts.some(isLoopbackHost)) return null;
  return `Closing for "${name}" came from ${from}, not from its known address (${hosts.join(', ') || 'none'})`;
}

function hostOf(addr: string): string | null {
  const hp = parseHostPort(addr, { allowPortZero: true, hosts: 'shape' });
  return hp.ok ? normalizeHost(hp.value.host) : null;
}

/** "::ffff:10.0.0.1" (an IPv4 client on a dual-stack socket) is 10.0.0.1. */
function normalizeHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}
