// The app API (v1): what the co-located application asks its sidecar, on 127.0.0.1. Built without
// listen() so tests drive it through inject().
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { applyPlugin } from '../apply/http-route.js';
import type { ApplyMetrics } from '../apply/metrics.js';
import type { Applier } from '../apply/service.js';
import type { Metrics } from '../metrics.js';
import type { AgentView } from '../runtime/view.js';
import { requireTokenOffLoopback } from './auth.js';
import { resolveLimits, type HttpLimits } from './limits.js';
import { serveOpenApiFile } from './openapi-file.js';
import { claimsPlugin } from './routes/claims.js';
import { leavePlugin } from './routes/leave.js';
import { keysPlugin, type KeyOpRunner } from './routes/keys.js';
import { membersPlugin, tablePlugin } from './routes/members.js';
import { routePlugin } from './routes/route.js';
import { watchPlugin } from './routes/watch.js';
import { infoPlugin } from './routes/info.js';
import { uiPlugin } from './routes/ui.js';
import { createServer } from './server.js';

export interface AppApiOptions {
  readonly metrics: Metrics;
  readonly logger?: FastifyBaseLogger;
  readonly limits?: Partial<HttpLimits>;
  /** Bearer token demanded from non-loopback clients; without it every client is served. */
  readonly token?: string | null;
  /** false: the token is demanded from loopback clients too (a mesh proxy relays from loopback). Default true. */
  readonly trustLoopback?: boolean;
  /** Bearer token admin routes (leave, key rotation) demand from every client; without it they refuse all. */
  readonly adminToken?: string | null;
  /** Gossip keyring operations fanned out to the cluster (src/security); null: no keyring. */
  readonly keyOps?: KeyOpRunner | null;
  /** --- apply: POST /v1/apply/:key (src/apply); absent: answered apply_not_configured. */
  readonly apply?: { readonly applier: Applier; readonly metrics: ApplyMetrics } | null;
  /**
   * GET /v1/openapi.json: 'file' (default) serves docs/openapi.json; 'generate' builds the document from
   * the routes with @fastify/swagger (test/deploy/openapi.test.ts compares the two).
   */
  readonly openApi?: 'file' | 'generate';
  /** Listener addresses for GET /v1/info (the agent fills them in once it listens). */
  readonly listeners?: () => Readonly<Record<string, string>>;
}

function notFoundHint(method: string, url: string): string | undefined {
  if (method === 'GET' && url.startsWith('/v1/route/')) return 'a "/" inside a key must be sent as %2F';
  if (method === 'GET' && (url === '/v1/route' || url.startsWith('/v1/route?'))) return 'use GET /v1/route/KEY or POST /v1/route {"keys": [...]}';
  return undefined;
}

/**
 * @fastify/swagger (and the yaml and JSON-schema packages it loads) only when the document is generated,
 * never in the agent, which serves the checked-in file: they are a large part of what loading the app API
 * would cost. Registered into the app's own context (skip-override, as fastify-plugin does), not a child
 * one, so the plugin sees the routes registered after it.
 */
async function generatedOpenApiPlugin(app: FastifyInstance): Promise<void> {
  (await import('./openapi.js')).registerOpenApi(app);
}
const generatedOpenApi = Object.assign(generatedOpenApiPlugin, { [Symbol.for('skip-override')]: true });

export function buildAppApi(view: AgentView, opts: AppApiOptions): FastifyInstance {
  const limits = resolveLimits(opts.limits);
  const app = createServer({
    metrics: opts.metrics,
    ...(opts.logger ? { logger: opts.logger } : {}),
    // A key of maxKeyBytes bytes, each percent-encoded (3 characters), still fits the router.
    maxParamLength: limits.maxKeyBytes * 3,
    maxIssues: limits.maxIssues,
    notFoundHint,
  });
  if (opts.token) requireTokenOffLoopback(app, opts.token, opts.metrics, opts.trustLoopback ?? true);
  // Before the routes: the OpenAPI plugin learns of routes as they are added (GET /v1/openapi.json).
  if (opts.openApi === 'generate') void app.register(generatedOpenApi);
  else serveOpenApiFile(app, opts.metrics);
  const common = { view, metrics: opts.metrics, limits };
  void app.register(routePlugin, common);
  void app.register(membersPlugin, { view });
  void app.register(tablePlugin, { view });
  void app.register(watchPlugin, common);
  void app.register(infoPlugin, { view, ...(opts.listeners ? { listeners: opts.listeners } : {}) });
  void app.register(uiPlugin, { metrics: opts.metrics });
  // --- claims: /v1/claims* when the view keeps claims (src/ownership)
  void app.register(claimsPlugin, { claims: view.claims ?? null, metrics: opts.metrics });
  void app.register(leavePlugin, { view, metrics: opts.metrics, adminToken: opts.adminToken ?? null });
  void app.register(keysPlugin, { keyOps: opts.keyOps ?? null, metrics: opts.metrics, adminToken: opts.adminToken ?? null });
  void app.register(applyPlugin, { applier: opts.apply?.applier ?? null, applyMetrics: opts.apply?.metrics ?? null, metrics: opts.metrics, limits });
  return app;
}
