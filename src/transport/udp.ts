// The SWIM packet transport over a real UDP socket (dgram-as-promised). Bytes in, bytes out: encoding,
// decoding and their rejections live in the codec; this file only moves datagrams, and keeps the socket
// alive.
//
// A socket that emits 'error' (or closes underneath us) would otherwise stop the member hearing probes
// for good while the process looks healthy. So the transport reopens it on the same address, with a
// backoff that doubles up to a bound, for as long as it is open; `health()` says whether it is
// receiving and since when it has not been, which /livez turns into a failure after a bound.
import DgramAsPromised, { type SocketAsPromised } from 'dgram-as-promised';
import type * as dgram from 'node:dgram';
import type { Socket, SocketType } from 'node:dgram';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { formatHostPort, mustParseHostPort } from '../net/address.js';

export type PacketHandler = (from: string, bytes: Uint8Array) => void;

/** Makes the UDP socket; tests pass one that lets them inject socket errors. */
export type UdpSocketFactory = (type: SocketType) => Socket;

export interface ReceiveHealth {
  /** The socket is bound and its receive path is running. */
  readonly receiving: boolean;
  /** When the receive path stopped (performance.now() ms); null while receiving. */
  readonly downSince: number | null;
  /** The last receive-side error (why it stopped, or why the last reopen failed). */
  readonly lastError: string | null;
}

export interface PacketTransport {
  /** The address actually bound (port resolved when 0 was asked for). */
  readonly localAddress: string;
  /** Fire and forget: UDP gives no delivery guarantee, and a failed send is a lost packet. */
  send(to: string, bytes: Uint8Array): void;
  health(): ReceiveHealth;
  close(): Promise<void>;
}

export interface ReopenBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
}

/** First reopen right away-ish, then doubling to a second: a transient error costs a few probes at most. */
export const DEFAULT_REOPEN_BACKOFF: ReopenBackoff = { initialMs: 50, maxMs: 1000 };

export interface UdpTransportOptions {
  bind: string;
  onPacket: PacketHandler;
  /** Called for a send the OS refused (EPERM from a firewall, EHOSTUNREACH, ...): counted, not thrown. */
  onSendError?: (to: string, err: Error) => void;
  /** Datagrams larger than this are dropped before decoding. */
  maxDatagramBytes?: number;
  onOversize?: (from: string, size: number) => void;
  /** The receive path failed (socket error or unexpected close, or a reopen that failed); next try after retryInMs. */
  onReceiveError?: (err: Error, retryInMs: number) => void;
  /** The socket was reopened after `attempts` tries and receives again. */
  onReopened?: (attempts: number) => void;
  reopenBackoff?: ReopenBackoff;
  createSocket?: UdpSocketFactory;
}

/** Largest UDP payload over IPv4. */
export const MAX_UDP_PAYLOAD = 65507;

export async function startUdpTransport(opts: UdpTransportOptions): Promise<PacketTransport> {
  const bind = mustParseHostPort(opts.bind);
  const family: SocketType = isIP(bind.host) === 6 ? 'udp6' : 'udp4';
  const backoff = opts.reopenBackoff ?? DEFAULT_REOPEN_BACKOFF;
  const maxBytes = opts.maxDatagramBytes ?? MAX_UDP_PAYLOAD;
  let closed = false;
  let socket: SocketAsPromised | null = null;
  let downSince: number | null = null;
  let lastError: string | null = null;
  let reopenTimer: NodeJS.Timeout | null = null;

  // dgram-as-promised takes the dgram module to create sockets with; a test's factory stands in for it.
  const factory = opts.createSocket;
  const dgramModule = factory === undefined ? undefined : ({ createSocket: (o: dgram.SocketOptions) => factory(o.type) } as Pick<typeof dgram, 'createSocket'> as typeof dgram);
  const make = (): SocketAsPromised => DgramAsPromised.createSocket({ type: family, reuseAddr: false, ...(dgramModule ? { dgram: dgramModule } : {}) });

  const deliver = (msg: Buffer, address: string, port: number): void => {
    const from = formatHostPort({ host: unmapV4(address), port });
    if (msg.length > maxBytes) {
      opts.onOversize?.(from, msg.length);
      return;
    }
    // A handler that throws is a bug in our code, but it must not take the receive path down.
    try {
      opts.onPacket(from, msg);
    } catch (err) {
      opts.onSendError?.(from, err instanceof Error ? err : new Error(String(err)));
    }
  };

  /** A fresh socket bound to `port`, or the bind error (the socket is then closed). */
  const open = async (port: number): Promise<{ s: SocketAsPromised; address: string; port: number }> => {
    const s = make();
    try {
      const info = await s.bind(port, bind.host);
      return { s, address: info.address, port: info.port };
    } catch (err) {
      discard(s);
      throw err;
    }
  };

  /** Receives on a bound socket until it fails or closes; then, unless we closed it, reopens. */
  const receive = async (s: SocketAsPromised): Promise<void> => {
    socket = s;
    downSince = null;
    let cause: Error;
    for (;;) {
      let packet;
      try {
        packet = await s.recv();
      } catch (err) {
        cause = err instanceof Error ? err : new Error(String(err));
        break;
      }
      if (packet === undefined) {
        cause = new Error('socket closed');
        break;
      }
      deliver(packet.msg, packet.rinfo.address, packet.rinfo.port);
    }
    if (socket !== s) return;
    socket = null;
    // A socket that errored is still bound: free its port for the reopen.
    discard(s);
    if (closed) return;
    downSince = performance.now();
    lastError = cause.message;
    scheduleReopen(1, backoff.initialMs, cause);
  };

  const first = await open(bind.port);
  const boundPort = first.port;
  const localAddress = formatHostPort({ host: first.address, port: boundPort });
  void receive(first.s);

  function scheduleReopen(attempt: number, delayMs: number, cause: Error): void {
    opts.onReceiveError?.(cause, delayMs);
    reopenTimer = setTimeout(() => {
      reopenTimer = null;
      if (closed) return;
      open(boundPort).then(
        ({ s }) => {
          if (closed) {
            discard(s);
            return;
          }
          void receive(s);
          opts.onReopened?.(attempt);
        },
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          lastError = e.message;
          scheduleReopen(attempt + 1, Math.min(delayMs * 2, backoff.maxMs), e);
        },
      );
    }, delayMs);
    reopenTimer.unref();
  }

  return {
    localAddress,
    send(to: string, bytes: Uint8Array): void {
      const s = socket;
      if (closed || s === null) return;
      let target;
      try {
        target = mustParseHostPort(to);
      } catch (err) {
        opts.onSendError?.(to, err as Error);
        return;
      }
      const host = family === 'udp6' && isIP(target.host) === 4 ? `::ffff:${target.host}` : target.host;
      // A socket closed between the check and the send (its reopen is under way) rejects: a lost packet.
      s.send(bytes, 0, bytes.length, target.port, host).catch((err: unknown) => {
        opts.onSendError?.(to, err instanceof Error ? err : new Error(String(err)));
      });
    },
    health(): ReceiveHealth {
      return { receiving: socket !== null, downSince, lastError };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (reopenTimer) clearTimeout(reopenTimer);
      const s = socket;
      socket = null;
      if (s !== null) await s.close().catch(() => undefined);
    },
  };
}

/** Closes a socket we are done with; a late error on it is not ours to act on any more. */
function discard(s: SocketAsPromised): void {
  s.destroy();
  s.socket.on('error', () => undefined);
  try {
    s.socket.close();
  } catch {
    // already closed
  }
}

function unmapV4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
