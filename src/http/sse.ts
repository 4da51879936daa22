// One Server-Sent Events stream over a raw ServerResponse, with a hard bound on what it buffers: a
// watcher that stops reading is cut off with a final `event: error`, never buffered without limit.
import type { ServerResponse } from 'node:http';

export type StreamEndReason = 'client_closed' | 'slow_consumer' | 'shutting_down' | 'stream_error' | 'internal';

export interface SseStreamOptions {
  /** Bytes queued in the response and socket buffers beyond which the client counts as too slow. */
  readonly maxBufferedBytes: number;
  readonly heartbeatMs: number;
  /** After the final error event, how long before a client that does not read it is dropped. */
  readonly closeGraceMs: number;
  /** Called once, however the stream ends. */
  readonly onEnd: (reason: StreamEndReason) => void;
}

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

export class SseStream {
  private ended = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    private readonly opts: SseStreamOptions,
  ) {
    res.writeHead(200, {
      'content-type': SSE_CONTENT_TYPE,
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies such as nginx would otherwise hold events back.
      'x-accel-buffering': 'no',
    });
    res.on('close', () => this.finish('client_closed'));
    res.on('error', () => this.finish('stream_error'));
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get open(): boolean {
    return !this.ended;
  }

  /** Sends one event; `data` is JSON text (one line, as JSON.stringify makes it). */
  send(event: string, data: string): void {
    this.write(`event: ${event}\ndata: ${data}\n\n`);
  }

  /** Ends the stream with a final `event: error` carrying {error: {code, message}}. */
  close(reason: Exclude<StreamEndReason, 'client_closed' | 'stream_error'>, message: string): void {
    if (this.ended) return;
    this.res.write(`event: error\ndata: ${JSON.stringify({ error: { code: reason, message } })}\n\n`);
    this.res.end();
    this.finish(reason);
    // A client that reads nothing would hold the socket (and its buffered bytes) forever.
    const drop = setTimeout(() => this.res.destroy(), this.opts.closeGraceMs);
    drop.unref();
    this.res.once('finish', () => clearTimeout(drop));
    this.res.once('close', () => clearTimeout(drop));
  }

  private write(chunk: string): void {
    if (this.ended) return;
    this.res.write(chunk);
    // writableLength counts the response's own queue plus its socket's.
    if (this.res.writableLength > this.opts.maxBufferedBytes) {
      this.close('slow_consumer', `the client read too slowly: more than ${this.opts.maxBufferedBytes} bytes were waiting; reconnect to get a fresh snapshot`);
    }
  }

  private finish(reason: StreamEndReason): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    this.opts.onEnd(reason);
  }
}
