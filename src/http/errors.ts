// Every error the HTTP edge answers with: a stable code, its HTTP status, and one JSON shape,
// {"error": {"code", "message", "issues"?}}. Rejections are counted by route pattern and code.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { Metrics } from '../metrics.js';

export const ERROR_STATUS = {
  /** The request failed schema validation; `issues` lists zod's findings. */
  invalid_request: 400,
  key_empty: 400,
  key_too_long: 400,
  /** The key has a lone surrogate, so it has no UTF-8 form to hash. */
  key_invalid: 400,
  batch_too_large: 400,
  bad_json: 400,
  bad_url: 400,
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  /** A gossip keyring operation on a member started without a keyring (src/security). */
  no_keyring: 409,
  /** --- claims: DELETE /v1/claims/:id of an id another member holds. */
  claimed_elsewhere: 409,
  /** POST /v1/members/:name/force-leave of a member that is alive or suspect (or the agent itself). */
  member_live: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
  /** --- claims: the view keeps no claims (a bare test view). */
  claims_not_configured: 501,
  too_many_watchers: 503,
  /** --- claims: the member takes no new claims (app not ready, leaving). */
  not_serving: 503,
  /** The member's clock is off from most peers' beyond --claim-max-clock-skew-ms: it takes no new claims. */
  clock_skew: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A zod issue as the client sees it: code, path, message and the issue's own details. */
export interface IssueView {
  readonly code: string;
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly [detail: string]: unknown;
}

export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly issues?: readonly IssueView[] };
}

/** The route pattern a rejection is counted under: bounded, unlike the raw URL. */
function routeLabel(request: FastifyRequest): string {
  try {
    return request.routeOptions.url ?? 'unmatched';
  } catch {
    // Requests refused by the router itself (frameworkErrors) carry no route context.
    return 'unmatched';
  }
}

export function sendError(
  metrics: Metrics,
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  issues?: readonly IssueView[],
): FastifyReply {
  metrics.httpRejections.inc({ route: routeLabel(request), code });
  const body: ErrorBody = { error: issues === undefined ? { code, message } : { code, message, issues } };
  return reply.code(ERROR_STATUS[code]).type('application/json; charset=utf-8').send(body);
}

const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_BAD_URL: 'bad_url',
  FST_ERR_MAX_PARAM_LENGTH: 'key_too_long',
};

function pathOf(instancePath: string): (string | number)[] {
  return instancePath
    .split('/')
    .filter((p) => p.length > 0)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/**
 * Turns fastify's copy of zod issues back into zod's shape. A custom issue may name a sharper error
 * code in params.errorCode (for example key_too_long); the first such code wins.
 */
function fromValidation(error: { validation: readonly { keyword: string; instancePath: string; message?: string; params: Record<string, unknown> }[] }, maxIssues: number): {
  code: ErrorCode;
  issues: IssueView[];
} {
  let code: ErrorCode = 'invalid_request';
  const issues: IssueView[] = [];
  for (const v of error.validation) {
    const { params: custom, input: _input, ...details } = v.params;
    // The only array with a size limit in the API is a batch of keys.
    const named =
      v.keyword === 'too_big' && details['origin'] === 'array'
        ? 'batch_too_large'
        : typeof custom === 'object' && custom !== null
          ? (custom as { errorCode?: unknown }).errorCode
          : undefined;
    if (code === 'invalid_request' && typeof named === 'string' && named in ERROR_STATUS) code = named as ErrorCode;
    if (issues.length < maxIssues) issues.push({ ...details, code: v.keyword, path: pathOf(v.instancePath), message: v.message ?? v.keyword });
  }
  return { code, issues };
}

function messageFor(code: ErrorCode, error: FastifyError): string {
  switch (code) {
    case 'bad_json':
      return `request body is not valid JSON: ${error.message}`;
    case 'body_too_large':
      return 'request body is larger than the limit';
    case 'unsupported_media_type':
      return 'send the request body as application/json';
    case 'bad_url':
      return 'the URL has an invalid percent-encoding';
    case 'key_too_long':
      return 'key is longer than the limit';
    default:
      return error.message;
  }
}

export interface ErrorHandlingOptions {
  readonly metrics: Metrics;
  readonly maxIssues: number;
  /** Extra text for a 404, chosen by URL (e.g. hints about key encoding). */
  readonly notFoundHint?: (method: string, url: string) => string | undefined;
}

/** Routes every failure through one shape; nothing a client sends turns into a 500. */
export function installErrorHandling(app: FastifyInstance, opts: ErrorHandlingOptions): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const { code, issues } = fromValidation(error, opts.maxIssues);
      const where = error.validationContext ?? 'request';
      const message = code === 'invalid_request' ? `invalid ${where}: ${issues[0]?.message ?? 'validation failed'}` : (issues[0]?.message ?? code);
      return sendError(opts.metrics, request, reply, code, message, issues);
    }
    const mapped = FASTIFY_CODES[error.code];
    if (mapped !== undefined) return sendError(opts.metrics, request, reply, mapped, messageFor(mapped, error));
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendError(opts.metrics, request, reply, 'bad_request', error.message);
    request.log.error({ err: error }, 'request failed');
    return sendError(opts.metrics, request, reply, 'internal', 'internal error');
  });
  app.setNotFoundHandler((request, reply) => {
    const hint = opts.notFoundHint?.(request.method, request.url);
    const path = request.url.split('?')[0] ?? request.url;
    return sendError(opts.metrics, request, reply, 'not_found', `no route ${request.method} ${path}${hint ? `; ${hint}` : ''}`);
  });
}

/** fastify's frameworkErrors option: bad percent-encoding and over-long URL parameters, in our shape. */
export function frameworkErrorsHandler(metrics: Metrics) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const code = FASTIFY_CODES[error.code] ?? 'bad_request';
    void sendError(metrics, request, reply, code, messageFor(code, error));
  };
}
