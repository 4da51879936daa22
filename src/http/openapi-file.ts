// GET /v1/openapi.json as the agent serves it: docs/openapi.json, read when asked. The document is
// generated from the routes by ./openapi.ts (@fastify/swagger), and test/deploy/openapi.test.ts keeps the
// file equal to what that generator makes of the agent's routes, so serving the file serves the same
// document. Generating it inside every agent cost ~0.6 MB of resident memory per sidecar for a document
// that changes only with the code (bench/README.md, "Idle sidecar").
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics.js';
import { sendError } from './errors.js';

/** Where the document is served, on the app API (loopback). */
export const OPENAPI_PATH = '/v1/openapi.json';

// From src/http/ (tests) and dist/http/ (the agent) alike; the image copies docs/openapi.json too.
export const OPENAPI_FILE = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));

export function serveOpenApiFile(app: FastifyInstance, metrics: Metrics, file: string = OPENAPI_FILE): void {
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async (request, reply) => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      const why = err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : 'unreadable';
      return sendError(metrics, request, reply, 'internal', `the OpenAPI document ${file} is missing from this installation (${why})`);
    }
    return reply.type('application/json; charset=utf-8').send(text);
  });
}
