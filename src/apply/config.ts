// The Apply options' own checks, used by the configuration schema (src/config/schema.ts).
import { z } from 'zod';
import { isLoopbackHost } from '../net/address.js';

/**
 * --app-handler-url: an http:// URL on this machine (127.0.0.0/8, ::1 or localhost) with an explicit
 * port. The sidecar hands the app requests from other members, so the URL must not lead anywhere else.
 */
export function appHandlerUrl() {
  return z.string({ error: 'expected an http:// URL on localhost' }).transform((s, ctx): URL => {
    const fail = (message: string): never => {
      ctx.issues.push({ code: 'custom', input: s, message });
      return z.NEVER as never;
    };
    let url: URL;
    try {
      url = new URL(s.trim());
    } catch {
      return fail(`"${s}" is not a valid URL`);
    }
    if (url.protocol !== 'http:') return fail(`"${s}" must start with http:// (the app listens on localhost, in the same pod)`);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (!isLoopbackHost(host)) return fail(`"${s}" is not on localhost: use 127.0.0.1, ::1 or localhost`);
    if (url.port === '') return fail(`"${s}" needs an explicit port`);
    if (url.username !== '' || url.password !== '') return fail(`"${s}" must not carry credentials`);
    if (url.hash !== '') return fail(`"${s}" must not have a #fragment`);
    return url;
  });
}
