// The fastify instance both APIs start from: zod type provider, our error shape, no listen().
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Metrics } from '../metrics.js';
import { frameworkErrorsHandler, installErrorHandling } from './errors.js';

export interface ServerOptions {
  readonly metrics: Metrics;
  readonly logger?: FastifyBaseLogger;
  readonly maxParamLength: number;
  readonly maxIssues: number;
  readonly notFoundHint?: (method: string, url: string) => string | undefined;
}

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/**
 * zod's compilers, the ones set on every server below, given to fastify at creation: without them it
 * loads and sets up its default ones (ajv, fast-json-stringify) only for those calls to replace them.
 * fastify types the factories for JSON Schema; every route here has zod schemas.
 */
const ZOD_COMPILERS: FastifyServerOptions['schemaController'] = {
  compilersFactory: {
    buildValidator: (() => validatorCompiler) as unknown as CompilersFactory['buildValidator'],
    buildSerializer: (() => serializerCompiler) as unknown as CompilersFactory['buildSerializer'],
  },
};

export function createServer(opts: ServerOptions): FastifyInstance {
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    // Per-request logs would cost more than a route lookup; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: opts.maxParamLength },
    // HEAD answers what GET would, headers without the body (RFC 9110 9.3.2). /v1/watch opts out and
    // answers HEAD itself: the GET handler would open a stream nobody reads.
    exposeHeadRoutes: true,
    // Bodies are only accepted where a route says so, with its own limit; this is the default for the rest.
    bodyLimit: 16 * 1024,
    frameworkErrors: frameworkErrorsHandler(opts.metrics),
    schemaController: ZOD_COMPILERS,
  });
  // Only JSON bodies mean anything to these APIs; other types get 415 instead of a confusing 400.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app, {
    metrics: opts.metrics,
    maxIssues: opts.maxIssues,
    ...(opts.notFoundHint ? { notFoundHint: opts.notFoundHint } : {}),
  });
  return app;
}
