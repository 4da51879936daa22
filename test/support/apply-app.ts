// A small real HTTP app for Apply tests: records every request it gets and answers with its own name,
// the key, the request id and the body, so a test can tell which app answered and how often.
// A JSON body {"delayMs": N} delays the answer; {"hold": true} never answers (until close()).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';

export interface ReceivedApply {
  readonly key: string;
  readonly requestId: string;
  readonly origin: string;
  readonly contentType: string;
  readonly body: string;
  /** The W3C trace headers it got (traceparent, tracestate, baggage), absent ones left out. */
  readonly trace: Readonly<Record<string, string>>;
}

export class ApplyTestApp {
  readonly received: ReceivedApply[] = [];
  private readonly server: Server;
  private readonly held = new Set<ServerResponse>();

  constructor(readonly name: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(host: string, port: number): Promise<void> {
    this.server.listen(port, host);
    await once(this.server, 'listening');
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** How many times a request id reached this app. */
  count(requestId: string): number {
    return this.received.filter((r) => r.requestId === requestId).length;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const header = (name: string): string => {
      const v = req.headers[name];
      return typeof v === 'string' ? v : '';
    };
    const entry: ReceivedApply = {
      key: decodeURIComponent(header('x-swimring-key')),
      requestId: header('idempotency-key'),
      origin: header('x-swimring-origin'),
      contentType: header('content-type'),
      body,
      trace: Object.fromEntries(['traceparent', 'tracestate', 'baggage'].filter((h) => h in req.headers).map((h) => [h, header(h)])),
    };
    this.received.push(entry);
    let instructions: { delayMs?: number; hold?: boolean; status?: number } = {};
    try {
      instructions = JSON.parse(body) as typeof instructions;
    } catch {
      // Plain bodies are just echoed.
    }
    if (instructions.hold === true) {
      this.held.add(res);
      return;
    }
    if (typeof instructions.delayMs === 'number') await new Promise((r) => setTimeout(r, instructions.delayMs));
    res.writeHead(instructions.status ?? 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ app: this.name, ...entry, seen: this.count(entry.requestId) }));
  }
}
