// GET /ui: the status page (ui/status.html), one self-contained HTML file that reads /v1/info, /v1/members
// and the /v1/watch stream of this listener. It is read from disk on its first request and kept, so an
// agent nobody looks at never loads it. Its one inline script is allowed by hash in the page's
// Content-Security-Policy, and nothing else may run: a member-supplied string that slipped past the
// page's escaping still could not execute.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.js';
import { sendError } from '../errors.js';

import { UI_FILE } from '../ui-file.js';

// package.json ships ui/; src/http/ui-file.ts says where it is from src/, dist/ and the bundle alike.
export { UI_FILE };
export const UI_PATH = '/ui';

export interface LoadedPage {
  readonly html: string;
  readonly contentSecurityPolicy: string;
}

/** The page and a policy that lets exactly its inline script and style run. */
export function pagePolicy(html: string): LoadedPage {
  const hashes = (tag: string): string[] =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => `'sha256-${createHash('sha256').update(m[1] ?? '').digest('base64')}'`);
  const policy = [
    "default-src 'none'",
    `script-src ${hashes('script').join(' ') || "'none'"}`,
    `style-src ${hashes('style').join(' ') || "'none'"}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy: policy };
}

export interface UiPluginOptions {
  readonly metrics: Metrics;
  readonly file?: string;
}

export const uiPlugin: FastifyPluginCallbackZod<UiPluginOptions> = (app, { metrics, file = UI_FILE }, done) => {
  let loading: Promise<LoadedPage> | null = null;
  app.get(UI_PATH, { schema: { hide: true } }, async (request, reply) => {
    loading ??= readFile(file, 'utf8').then(pagePolicy);
    let page: LoadedPage;
    try {
      page = await loading;
    } catch (err) {
      loading = null;
      const why = err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : 'unreadable';
      return sendError(metrics, request, reply, 'internal', `the status page ${file} is missing from this installation (${why})`);
    }
    return reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', page.contentSecurityPolicy)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-cache')
      .send(page.html);
  });
  done();
};
