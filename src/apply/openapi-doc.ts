// How POST /v1/apply/:key appears in the app API's OpenAPI document (src/http/openapi.ts ROUTE_DOCS).
import { z } from 'zod';
import { APPLY_HTTP_STATUS } from './http-route.js';

const codes = Object.keys(APPLY_HTTP_STATUS) as [string, ...string[]];

export const applyErrorBody = z
  .object({
    error: z.object({
      code: z.enum(codes).describe('docs/apply.md lists every code'),
      message: z.string(),
      requestId: z.string().describe('the request id used (sent, or made up when none was sent); "" when the sent one was refused'),
      retriable: z.boolean().describe('true when the same request, with the same request id, may succeed later'),
      retryAfterMs: z.int().min(0).optional().describe('suggested wait before a retry; also sent as Retry-After (seconds)'),
      owner: z.string().optional().describe('the member that owns the key, in the view of the member that answered; "" when unknown'),
      ownerAddr: z.string().optional().describe('its gRPC address'),
      tableVersion: z.string().optional(),
      mayHaveBeenDelivered: z.boolean().optional().describe('true when an app may have received the request although this is an error'),
      attempts: z.int().min(0).optional().describe('attempts made, the first included'),
    }),
  })
  .meta({ id: 'ApplyErrorBody' });

const json = (description: string) => ({ description, content: { 'application/json': { schema: applyErrorBody } } });

export const APPLY_ROUTE_DOCS = {
  'POST /v1/apply/:key': {
    summary: "Deliver work to the key's owner's app",
    description:
      "The body (any content type, up to --apply-max-body-bytes) goes to the --app-handler-url of the member that owns the key, through that member's sidecar; " +
      "the app's answer comes back as is (status, body, Content-Type) with X-Swimring-Owner, X-Swimring-Duplicate, X-Swimring-Path and X-Request-Id. " +
      'Send Idempotency-Key (or X-Request-Id): a request id is delivered at most once by its owner while remembered. docs/apply.md.',
    tags: ['routing'],
    response: {
      '2XX': { description: "the owner's app answer (any status the app chose; X-Swimring-Owner names the member)", content: { '*/*': { schema: z.string() } } },
      400: json('invalid key, request id or Content-Type'),
      409: json('outcome_unknown: this request id was delivered before and its outcome is unknown'),
      413: json('the body is larger than --apply-max-body-bytes'),
      421: json('not_owner: the owner could not be settled within the attempts (views disagree)'),
      501: json('no_app_handler / apply_not_configured'),
      502: json('app_unreachable, app_answer_too_large, refused'),
      503: json('owner_unavailable, owner_changed, no_owner, busy (Retry-After set)'),
      504: json('timeout, app_timeout'),
    },
  },
};
