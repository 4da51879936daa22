// The control plane's port, bound before grpc-js is loaded: the agent needs its address (its member
// announces it) and a taken port must fail the start, but the gRPC server itself is attached only
// after the app API listens (src/runtime/agent.ts). Connections that arrive in between are held and
// handed to the server when it is attached: a caller waits, it is not refused. Every socket is handed
// over paused, unread (pauseOnConnect), so no byte is read before HTTP/2 or TLS has the socket; the
// taker starts reading (src/grpc/server.ts).
import { createServer, type Server, type Socket } from 'node:net';
import { parseHostPort } from '../net/address.js';

/**
 * Connections held before the server is attached: a member has one channel per peer, so a few in a
 * start's first milliseconds; past this, a flood is closed as the attached server would close it.
 */
export const MAX_WAITING_CONNECTIONS = 256;

export interface ControlPlaneListener {
  /** The bound port (the chosen one when bind asked for port 0). */
  readonly port: number;
  /** Connections closed because too many waited for the server. */
  readonly dropped: number;
  /** Hands every waiting connection, then each new one, to `take`, paused (once; later calls throw). */
  attach(take: (socket: Socket) => void): void;
  /** Stops listening and closes the connections still waiting. Idempotent. */
  close(): Promise<void>;
}

/** Listens on `bind` ("host:port", "[v6]:port"; port 0 picks a free port) without reading any connection. */
export async function listenForControlPlane(bind: string): Promise<ControlPlaneListener> {
  const parsed = parseHostPort(bind, { allowPortZero: true, hosts: 'shape' });
  if (!parsed.ok) throw new Error(`control plane bind address: ${parsed.reason}`);
  const server: Server = createServer({ pauseOnConnect: true });
  const waiting = new Set<Socket>();
  let take: ((socket: Socket) => void) | null = null;
  let dropped = 0;
  server.on('connection', (socket: Socket) => {
    if (take !== null) return take(socket);
    if (waiting.size >= MAX_WAITING_CONNECTIONS) {
      dropped++;
      socket.destroy();
      return;
    }
    waiting.add(socket);
    // A reset while it waits ends that connection, not the process.
    socket.on('error', ignore);
    socket.once('close', () => waiting.delete(socket));
  });
  let listening = false;
  await new Promise<void>((resolve, reject) => {
    // After the bind, an accept that fails (out of file descriptors) costs that one connection only.
    server.on('error', (err) => {
      if (!listening) reject(new Error(`control plane cannot listen on ${bind}: ${err.message}`));
    });
    server.listen({ host: parsed.value.host, port: parsed.value.port }, () => {
      listening = true;
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`control plane listener on ${bind} has no port`);
  let closing: Promise<void> | undefined;
  return {
    port: address.port,
    get dropped() {
      return dropped;
    },
    attach(next) {
      if (take !== null) throw new Error('the control plane listener is already attached');
      take = next;
      const held = [...waiting];
      waiting.clear();
      for (const socket of held) {
        socket.off('error', ignore);
        if (socket.destroyed) continue;
        next(socket);
      }
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of waiting) socket.destroy();
        waiting.clear();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

function ignore(): void {}
