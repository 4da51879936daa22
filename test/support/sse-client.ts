// A plain SSE reader for tests against real sidecars: every event with its name and raw data, in order,
// and how the stream ended. It reads as fast as the socket delivers (a reader that keeps up).
import { request, type IncomingMessage } from 'node:http';

export interface SseRecord {
  readonly event: string;
  readonly data: string;
}

export class SseFollower {
  readonly events: SseRecord[] = [];
  ended = false;
  private buffer = '';
  private res: IncomingMessage | null = null;

  static open(url: string): Promise<SseFollower> {
    const f = new SseFollower();
    return new Promise((resolve, reject) => {
      const req = request(url, (res) => {
        f.res = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => f.feed(chunk));
        res.on('close', () => (f.ended = true));
        resolve(f);
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Data of every event named `event`, parsed. */
  parsed<T>(event: string): T[] {
    return this.events.filter((e) => e.event === event).map((e) => JSON.parse(e.data) as T);
  }

  close(): void {
    this.res?.destroy();
  }

  private feed(chunk: string): void {
    this.buffer = takeSseEvents(this.buffer + chunk, (e) => this.events.push(e));
  }
}

/**
 * Hands every complete event (blocks ending in a blank line) of `buffer` to `onEvent`, comment lines to
 * `onComment`; returns the incomplete rest. Events without data are skipped.
 */
export function takeSseEvents(buffer: string, onEvent: (e: SseRecord) => void, onComment?: (text: string) => void): string {
  let end: number;
  while ((end = buffer.indexOf('\n\n')) >= 0) {
    const block = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) onComment?.(line.slice(1).trim());
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (data !== '') onEvent({ event, data });
  }
  return buffer;
}
