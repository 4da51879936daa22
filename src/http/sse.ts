// One Server-Sent Events stream over a raw ServerResponse, with bounds on what it buffers: a watcher
// that stops reading is cut off with a final `event: error`, never buffered without limit. The bound is
// how long written bytes wait (a reader that keeps up takes any one event, however large), plus a cap on
// the bytes already waiting when a new event comes (memory).
import type { ServerResponse } from 'node:http';

export type StreamEndReason = 'client_closed' | 'slow_consumer' | 'shutting_down' | 'stream_error' | 'internal';

export interface SseStreamOptions {
  /**
   * Bytes still queued in the response and socket buffers when an event is sent beyond which the client
   * counts as too slow. Measured before the event is written, so one event larger than this still goes out.
   */
  readonly maxBufferedBytes: number;
  /** Bytes written must have left the response and socket buffers this long after (ms), or the client is too slow. */
  readonly drainMs: number;
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
  /** Bytes handed to the response so far, HTTP/1.1 chunk framing included (so never fewer than it queued). */
  private written = 0;
  /** While bytes wait: they must all be out (flushed >= drainTarget) when drainTimer fires. */
  private drainTarget = 0;
  private drainTimer: NodeJS.Timeout | null = null;

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
    // writableLength counts the response's own queue plus its socket's.
    const waiting = this.res.writableLength;
    this.res.write(chunk);
    const bytes = Buffer.byteLength(chunk);
    // "<hex length>\r\n" before the chunk and "\r\n" after it.
    this.written += bytes + bytes.toString(16).length + 4;
    if (waiting > this.opts.maxBufferedBytes) {
      this.close('slow_consumer', `the client read too slowly: more than ${this.opts.maxBufferedBytes} bytes were waiting; reconnect to get a fresh snapshot`);
      return;
    }
    if (this.drainTimer === null && this.res.writableLength > 0) this.startDrainCheck();
  }

  /** Everything written so far must be out within drainMs; then, if more waits, the next check starts. */
  private startDrainCheck(): void {
    this.drainTarget = this.written;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = null;
      if (this.ended) return;
      const flushed = this.written - this.res.writableLength;
      if (flushed < this.drainTarget) {
        this.close('slow_consumer', `the client read too slowly: bytes written ${this.opts.drainMs} ms ago were still waiting; reconnect to get a fresh snapshot`);
      } else if (this.res.writableLength > 0) {
        this.startDrainCheck();
      }
    }, this.opts.drainMs);
    this.drainTimer.unref();
  }

  private finish(reason: StreamEndReason): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.opts.onEnd(reason);
  }
}
