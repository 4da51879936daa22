// Request ids (idempotency keys): what the app sends in Idempotency-Key or X-Request-Id, or one made up
// for it. They travel in ApplyRequest.request_id and in HTTP headers, so they are held to printable
// ASCII without spaces, 1 to 128 bytes (the proto's bound).
import { randomUUID } from 'node:crypto';

export const MAX_REQUEST_ID_BYTES = 128;

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** null when `id` may be used; otherwise why not. */
export function checkRequestId(id: string): string | null {
  if (id.length === 0) return 'request id must not be empty';
  if (id.length > MAX_REQUEST_ID_BYTES) return `request id is ${id.length} characters; the limit is ${MAX_REQUEST_ID_BYTES}`;
  if (!REQUEST_ID.test(id)) return 'request id must be printable ASCII without spaces';
  return null;
}

export function newRequestId(): string {
  return randomUUID();
}

/**
 * The request id of an HTTP request: Idempotency-Key wins over X-Request-Id; neither means a new one.
 * A header given twice arrives as a list, which is refused rather than guessed at.
 */
export function requestIdFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): { id: string; generated: boolean } | { problem: string } {
  for (const name of ['idempotency-key', 'x-request-id']) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) return { problem: `${name} is given ${value.length} times` };
    const problem = checkRequestId(value);
    return problem === null ? { id: value, generated: false } : { problem: `${name}: ${problem}` };
  }
  return { id: newRequestId(), generated: true };
}
