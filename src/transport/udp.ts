// The SWIM packet transport over real UDP sockets (dgram-as-promised). Bytes in, bytes out: encoding,
// decoding and their rejections live in the codec; this file only moves datagrams.
import DgramAsPromised, { type SocketAsPromised } from 'dgram-as-promised';
import { isIP } from 'node:net';
import { formatHostPort, mustParseHostPort } from '../net/address.js';

export type PacketHandler = (from: string, bytes: Uint8Array) => void;

export interface PacketTransport {
  /** The address actually bound (port resolved when 0 was asked for). */
  readonly localAddress: string;
  /** Fire and forget: UDP gives no delivery guarantee, and a failed send is a lost packet. */
  send(to: string, bytes: Uint8Array): void;
  close(): Promise<void>;
}

export interface UdpTransportOptions {
  bind: string;
  onPacket: PacketHandler;
  /** Called for a send the OS refused (EPERM from a firewall, EHOSTUNREACH, ...): counted, not thrown. */
  onSendError?: (to: string, err: Error) => void;
  /** Datagrams larger than this are dropped before decoding. */
  maxDatagramBytes?: number;
  onOversize?: (from: string, size: number) => void;
}

/** Largest UDP payload over IPv4. */
export const MAX_UDP_PAYLOAD = 65507;

export async function startUdpTransport(opts: UdpTransportOptions): Promise<PacketTransport> {
  const bind = mustParseHostPort(opts.bind);
  const family = isIP(bind.host) === 6 ? 'udp6' : 'udp4';
  const socket: SocketAsPromised = DgramAsPromised.createSocket({ type: family, reuseAddr: false });
  const info = await socket.bind(bind.port, bind.host);
  const localAddress = formatHostPort({ host: info.address, port: info.port });
  const maxBytes = opts.maxDatagramBytes ?? MAX_UDP_PAYLOAD;
  let closed = false;

  // One receive loop; each datagram handed to the owner synchronously. A handler that throws is a bug in
  // our code, but it must not take the loop (and with it the member's liveness) down.
  void (async () => {
    while (!closed) {
      const packet = await socket.recv().catch(() => undefined);
      if (!packet) break;
      const from = formatHostPort({ host: unmapV4(packet.rinfo.address), port: packet.rinfo.port });
      if (packet.msg.length > maxBytes) {
        opts.onOversize?.(from, packet.msg.length);
        continue;
      }
      try {
        opts.onPacket(from, packet.msg);
      } catch (err) {
        opts.onSendError?.(from, err instanceof Error ? err : new Error(String(err)));
      }
    }
  })();

  return {
    localAddress,
    send(to: string, bytes: Uint8Array): void {
      if (closed) return;
      let target;
      try {
        target = mustParseHostPort(to);
      } catch (err) {
        opts.onSendError?.(to, err as Error);
        return;
      }
      const host = family === 'udp6' && isIP(target.host) === 4 ? `::ffff:${target.host}` : target.host;
      socket.send(bytes, 0, bytes.length, target.port, host).catch((err: unknown) => {
        opts.onSendError?.(to, err instanceof Error ? err : new Error(String(err)));
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await socket.close();
    },
  };
}

function unmapV4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
