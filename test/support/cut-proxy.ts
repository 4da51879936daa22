// A TCP proxy on loopback whose connections a test can cut, and which can refuse new ones for a while:
// a watch stream that drops, then a sidecar that cannot be reached, without touching the sidecar.
import { createServer, connect, type Server, type Socket } from 'node:net';

export class CutProxy {
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  private server: Server | null = null;
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, this.host, resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** Cuts every open connection; with `refuse`, new ones are closed at once until accept() is called. */
  cut(refuse: boolean): void {
    this.refusing = refuse;
    for (const s of this.sockets) s.destroy();
  }

  accept(): void {
    this.refusing = false;
  }

  async stop(): Promise<void> {
    this.cut(true);
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
