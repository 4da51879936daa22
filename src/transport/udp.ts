// The SWIM packet transport over a real UDP socket (node:dgram). Bytes in, bytes out: encoding, decoding
// and their rejections live in the codec; this file only moves datagrams, and keeps the socket alive.
//
// A socket that emits 'error' (or closes underneath us) would otherwise stop the member hearing probes
// for good while the process looks healthy. So the transport reopens it on the same address, with a
// backoff that doubles up to a bound, for as long as it is open; `health()` says whether it is
// receiving and since when it has not been, which /livez turns into a failure after a bound.
import { createSocket, type Socket, type SocketType } from 'node:dgram';
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
  const make = opts.createSocket ?? ((type: SocketType) => createSocket({ type, reuseAddr: false }));
  const backoff = opts.reopenBackoff ?? DEFAULT_REOPEN_BACKOFF;
  const maxBytes = opts.maxDatagramBytes ?? MAX_UDP_PAYLOAD;
  let closed = false;
  let socket: Socket | null = null;
  let downSince: number | null = null;
  let lastError: string | null = null;
  let reopenTimer: NodeJS.Timeout | null = null;

  const onMessage = (msg: Buffer, rinfo: { address: string; port: number }): void => {
    const from = formatHostPort({ host: unmapV4(rinfo.address), port: rinfo.port });
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

  /** Binds a fresh socket to `port`; resolves with the bound address or rejects with the bind error. */
  const open = (port: number): Promise<{ s: Socket; address: string; port: number }> =>
    new Promise((resolve, reject) => {
      const s = make(family);
      const fail = (err: Error): void => {
        s.removeAllListeners();
        try {
          s.close();
        } catch {
          // never bound
        }
        reject(err);
      };
      s.once('error', fail);
      s.once('listening', () => {
        s.removeListener('error', fail);
        const a = s.address();
        resolve({ s, address: a.address, port: a.port });
      });
      s.bind(port, bind.host);
    });

  /** Watches a bound socket: its messages feed the member, its error or close starts a reopen. */
  const attach = (s: Socket): void => {
    socket = s;
    downSince = null;
    s.on('message', onMessage);
    const lost = (err: Error): void => {
      if (socket !== s) return;
      socket = null;
      s.removeAllListeners();
      s.on('error', () => undefined);
      try {
        s.close();
      } catch {
        // already closed
      }
      if (closed) return;
      downSince = performance.now();
      lastError = err.message;
      scheduleReopen(1, backoff.initialMs, err);
    };
    s.on('error', lost);
    s.on('close', () => lost(new Error('socket closed')));
  };

  const first = await open(bind.port);
  const boundPort = first.port;
  const localAddress = formatHostPort({ host: first.address, port: boundPort });
  attach(first.s);

  function scheduleReopen(attempt: number, delayMs: number, cause: Error): void {
    opts.onReceiveError?.(cause, delayMs);
    reopenTimer = setTimeout(() => {
      reopenTimer = null;
      if (closed) return;
      open(boundPort).then(
        ({ s }) => {
          if (closed) {
            s.close();
            return;
          }
          attach(s);
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
      try {
        s.send(bytes, 0, bytes.length, target.port, host, (err) => {
          if (err) opts.onSendError?.(to, err);
        });
      } catch (err) {
        // A socket closed between the check and the send (its reopen is under way): a lost packet.
        opts.onSendError?.(to, err instanceof Error ? err : new Error(String(err)));
      }
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
      if (s === null) return;
      s.removeAllListeners();
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        try {
          s.close();
        } catch {
          resolve();
        }
      });
    },
  };
}

function unmapV4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
