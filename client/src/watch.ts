// Follows GET /v1/watch (Server-Sent Events, docs/http.md) and reconnects when it ends, with full-jitter
// exponential backoff. A stream that delivers nothing, not even the sidecar's 15 s heartbeat comment,
// for idleTimeoutMs is taken for dead (a half-open connection) and replaced.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { WatchEvent } from './types.js';

export interface WatchFollowerOptions {
  readonly url: string;
  /** Path and query of the watch, e.g. /v1/watch?claims=all. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly idleTimeoutMs: number;
  readonly onEvent: (event: WatchEvent) => void;
  /** The stream ended or could not be opened; a reconnect is scheduled. */
  readonly onDown: (reason: string) => void;
}

/** The delay before reconnect attempt `attempt` (0-based): uniform in [0, min(max, min * 2^attempt)]. */
export function backoffMs(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * cap);
}

export class WatchFollower {
  private closed = false;
  private attempt = 0;
  private req: ClientRequest | null = null;
  private res: IncomingMessage | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private buffer = '';
  /** The reason the server gave in its final `error` event, if any. */
  private serverReason = '';

  constructor(private readonly opts: WatchFollowerOptions) {}

  start(): void {
    this.open();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.res?.destroy();
    this.req?.destroy();
  }

  /** Drops the current stream now (as if the connection broke); a reconnect follows. */
  drop(reason: string): void {
    this.serverReason = reason;
    this.res?.destroy();
    this.req?.destroy();
  }

  private open(): void {
    if (this.closed) return;
    const url = new URL(this.opts.path, this.opts.url);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    this.buffer = '';
    this.serverReason = '';
    let ended = false;
    const end = (reason: string): void => {
      if (ended) return;
      ended = true;
      if (this.idleTimer) clearTimeout(this.idleTimer);
      this.req = null;
      this.res = null;
      if (this.closed) return;
      this.opts.onDown(this.serverReason || reason);
      const delay = backoffMs(this.attempt++, this.opts.minBackoffMs, this.opts.maxBackoffMs);
      this.retryTimer = setTimeout(() => this.open(), delay);
      this.retryTimer.unref();
    };
    const req = request(url, { headers: { accept: 'text/event-stream', ...this.opts.headers } }, (res) => {
      this.res = res;
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => end(`the sidecar answered ${res.statusCode ?? '?'} to the watch`));
        res.on('error', () => end('the watch answer failed'));
        return;
      }
      res.setEncoding('utf8');
      this.touch();
      res.on('data', (chunk: string) => {
        this.touch();
        this.feed(chunk);
      });
      res.on('end', () => end('the sidecar ended the watch'));
      res.on('close', () => end('the watch connection closed'));
      res.on('error', () => end('the watch connection failed'));
    });
    this.req = req;
    req.on('error', (err) => end(`cannot reach the sidecar: ${err.message}`));
    req.end();
  }

  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.drop(`nothing from the sidecar for ${this.opts.idleTimeoutMs} ms`), this.opts.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(line.startsWith('data: ') ? 6 : 5);
      }
      if (data === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        this.drop('the watch sent an event that is not JSON');
        return;
      }
      if (event === 'error') {
        const code = (parsed as { error?: { code?: unknown } }).error?.code;
        this.serverReason = `the sidecar ended the watch: ${typeof code === 'string' ? code : 'error'}`;
        continue;
      }
      if (event === 'snapshot') this.attempt = 0;
      // Event kinds this library does not know (a newer sidecar) are skipped.
      if (event === 'snapshot' || event === 'member' || event === 'moves' || event === 'claim' || event === 'claims') this.opts.onEvent(parsed as WatchEvent);
    }
  }
}
