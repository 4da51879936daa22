// A stand-in for the co-located app's health endpoint: GET /ready answers 200 while `ready` is true,
// 503 otherwise, so tests flip a sidecar's serving state through --app-health.
import { createServer, type Server } from 'node:http';

export class TestApp {
  ready: boolean;
  private server: Server | null = null;
  constructor(readonly host: string, readonly port: number, ready: boolean) {
    this.ready = ready;
  }
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      res.statusCode = req.url === '/ready' && this.ready ? 200 : 503;
      res.end();
    });
    await new Promise<void>((r) => this.server!.listen(this.port, this.host, r));
  }
  get url(): string {
    return `http://${this.host}:${this.port}/ready`;
  }
  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}
