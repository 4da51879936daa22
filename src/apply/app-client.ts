// Hands one Apply to the co-located app: POST to --app-handler-url with the body, and headers naming
// the key and the request id. Tells apart "never reached the app" (connection refused: safe to try
// again) from "reached it, no usable answer" (timeout, reset, oversized answer: the app may have acted).
// A fresh connection per request: a kept-alive socket the app has just closed would fail after the
// request was written, and that would look like the ambiguous case.
import { request as httpRequest } from 'node:http';
import { traceHeadersOut } from './trace-context.js';
import type { AppAnswer, AppMessage } from './types.js';

export interface AppDelivery {
  readonly key: string;
  readonly requestId: string;
  /** Member whose app sent the request (informational; "" when this one). */
  readonly origin: string;
  /** Fencing token of the claim on the key when it is claimed (docs/ownership.md); undefined otherwise. */
  readonly fence?: string;
  readonly message: AppMessage;
  readonly timeoutMs: number;
}

export type AppCallResult =
  | { readonly kind: 'answered'; readonly answer: AppAnswer }
  | { readonly kind: 'not-delivered'; readonly reason: string }
  | { readonly kind: 'unknown'; readonly code: 'app_timeout' | 'app_answer_too_large' | 'app_failed'; readonly reason: string };

/** Header names the app sees (lower case, as node reports them). */
export const APP_HEADERS = Object.freeze({
  /** The key, percent-encoded (keys are any UTF-8; header values are not). */
  key: 'x-swimring-key',
  requestId: 'idempotency-key',
  origin: 'x-swimring-origin',
  /** The claim's fencing token, decimal, when the key is claimed: the app refuses writes older than it. */
  fence: 'x-swimring-fence',
});

export async function callApp(url: URL, delivery: AppDelivery, maxAnswerBytes: number): Promise<AppCallResult> {
  return new Promise<AppCallResult>((resolve) => {
    let connected = false;
    let finished = false;
    const finish = (result: AppCallResult): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve(result);
    };
    const { body, contentType } = delivery.message;
    const req = httpRequest(url, {
      method: 'POST',
      agent: false,
      headers: {
        ...(contentType !== '' ? { 'content-type': contentType } : {}),
        'content-length': String(body.length),
        [APP_HEADERS.key]: encodeURIComponent(delivery.key),
        [APP_HEADERS.requestId]: delivery.requestId,
        ...(delivery.origin !== '' ? { [APP_HEADERS.origin]: delivery.origin } : {}),
        ...(delivery.fence !== undefined ? { [APP_HEADERS.fence]: delivery.fence } : {}),
        ...traceHeadersOut(delivery.message.trace),
      },
    });
    const timer = setTimeout(() => {
      finish(
        connected
          ? { kind: 'unknown', code: 'app_timeout', reason: `the app did not answer within ${delivery.timeoutMs} ms` }
          : { kind: 'not-delivered', reason: `could not connect to the app within ${delivery.timeoutMs} ms` },
      );
      req.destroy();
    }, delivery.timeoutMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    req.on('error', (err) => {
      const why = err.message;
      finish(connected ? { kind: 'unknown', code: 'app_failed', reason: `the app connection failed after the request was sent: ${why}` } : { kind: 'not-delivered', reason: why });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxAnswerBytes) {
        finish({ kind: 'unknown', code: 'app_answer_too_large', reason: `the app answered ${declared} bytes; the limit is ${maxAnswerBytes}` });
        res.destroy();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxAnswerBytes) {
          finish({ kind: 'unknown', code: 'app_answer_too_large', reason: `the app answered more than ${maxAnswerBytes} bytes` });
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => finish({ kind: 'unknown', code: 'app_failed', reason: `reading the app's answer failed: ${err.message}` }));
      res.on('end', () => {
        const type = res.headers['content-type'] ?? '';
        finish({
          kind: 'answered',
          answer: { status: res.statusCode ?? 502, body: Buffer.concat(chunks), contentType: /^[\x20-\x7e]{0,255}$/.test(type) ? type : '' },
        });
      });
    });
    req.end(body);
  });
}
