// grpc-js bounds the streams on one connection but not the connections: a caller that opens thousands
// holds a session (and a file descriptor) each. Its HTTP/2 servers are net servers, reached through a
// field grpc-js keeps private (test/grpc/connection-limit.test.ts fails if it moves); a socket over a
// bound is closed before HTTP/2 (or TLS) reads a byte of it.
import type { Server as NetServer, Socket } from 'node:net';
import type { Server as GrpcServer } from '@grpc/grpc-js';

export interface ConnectionLimits {
  /**
   * Open connections from one IP address. A member keeps one channel to each peer, so this is about
   * members sharing an address (every member on one host's loopback) plus tools (CLI, watch).
   */
  readonly perHost: number;
  /** Open connections in all: a member is called by about every other member of the cluster. */
  readonly total: number;
}

export const DEFAULT_CONNECTIONS_PER_HOST = 64;

/** Connections for a member whose messages are sized for `maxMembers` records (2 per cluster member). */
export function connectionLimitsFor(maxMembers: number): ConnectionLimits {
  return { perHost: DEFAULT_CONNECTIONS_PER_HOST, total: Math.max(1024, maxMembers) };
}

export type ConnectionRefusal = 'per-host' | 'total';

/**
 * Applies the limits to every listening server of `server` (call after bindAsync). Returns false when
 * grpc-js no longer exposes its servers the way this expects: the caller then runs without the bound.
 */
export function limitConnections(server: GrpcServer, limits: ConnectionLimits, refused: (reason: ConnectionRefusal, host: string) => void): boolean {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) return false;
  let open = 0;
  const perHost = new Map<string, number>();
  const admit = (socket: Socket): void => {
    const host = socket.remoteAddress ?? '';
    const fromHost = perHost.get(host) ?? 0;
    const over: ConnectionRefusal | null = open >= limits.total ? 'total' : fromHost >= limits.perHost ? 'per-host' : null;
    if (over !== null) {
      socket.destroy();
      refused(over, host);
      return;
    }
    open++;
    perHost.set(host, fromHost + 1);
    socket.once('close', () => {
      open--;
      const left = (perHost.get(host) ?? 1) - 1;
      if (left > 0) perHost.set(host, left);
      else perHost.delete(host);
    });
  };
  for (const listener of servers.keys()) {
    if (typeof (listener as Partial<NetServer>).prependListener !== 'function') return false;
    (listener as NetServer).prependListener('connection', admit);
  }
  return true;
}
