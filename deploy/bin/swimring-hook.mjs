#!/usr/bin/env node
// Kubernetes hooks for the swimring sidecar, run with the image's node (it has no curl):
//   node bin/swimring-hook.mjs leave [--wait-ms N]   preStop: start the graceful leave (POST /v1/leave, with
//                                                    the admin token), then optionally hold the hook N ms
//   node bin/swimring-hook.mjs startup               startupProbe: joined and the view settled
// node:http rather than fetch: the hook runs inside the sidecar's memory limit and fetch costs ~10 MB more.
// Addresses come from the same SWIMRING_HTTP_ADDR / SWIMRING_OPS_ADDR the agent reads (defaults
// 127.0.0.1:7948 and 0.0.0.0:7949). Exit 0 = success, 1 = not yet / failed, 2 = usage.

import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const REQUEST_TIMEOUT_MS = 2000;
// /readyz reasons that do not hold back startup: the app container starts only after this probe
// passes (native sidecar), so waiting for the app here would deadlock. Kept in step with
// src/runtime/readiness.ts by test/deploy/hook.test.ts.
const STARTUP_IGNORED_REASONS = ['app not ready'];

/** "host:port" as the agent writes it, wildcard hosts turned into the loopback a local client dials. */
export function localUrl(addr, fallback) {
  const text = (addr ?? '').trim() || fallback;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  let host = m[1] ?? m[2] ?? '';
  if (host === '' || host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${m[3]}`;
}

/**
 * The admin token POST /v1/leave needs, found as src/http/admin-token.ts cliAdminToken finds it: an
 * explicit file, SWIMRING_ADMIN_TOKEN, else the file the agent wrote at
 * <tmpdir>/swimring-<name>.token (the hook runs in the sidecar's container: same env, same /tmp).
 */
export function adminToken(env, host = hostname) {
  const read = (path) => {
    try {
      const text = readFileSync(path, 'utf8').trim();
      return text.length > 0 && text.length <= 4096 ? text : undefined;
    } catch {
      return undefined;
    }
  };
  if (env.SWIMRING_ADMIN_TOKEN_FILE) return read(env.SWIMRING_ADMIN_TOKEN_FILE);
  if (env.SWIMRING_ADMIN_TOKEN) return env.SWIMRING_ADMIN_TOKEN;
  const name = env.SWIMRING_NAME || env.POD_NAME || host();
  return read(join(tmpdir(), `swimring-${encodeURIComponent(name)}.token`));
}

/** Startup passes when /readyz is 200, or 503 only because the app itself is not ready yet. */
export function startupPasses(status, body) {
  if (status === 200) return true;
  if (status !== 503 || typeof body !== 'object' || body === null || !Array.isArray(body.reasons)) return false;
  return body.reasons.length > 0 && body.reasons.every((r) => typeof r === 'string' && STARTUP_IGNORED_REASONS.some((p) => r.startsWith(p)));
}

/** One small HTTP exchange; the body is capped, the whole exchange bounded by REQUEST_TIMEOUT_MS. */
function exchange(method, url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks = [];
      let size = 0;
      res.on('data', (c) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function startup(env) {
  const base = localUrl(env.SWIMRING_OPS_ADDR, '0.0.0.0:7949');
  if (!base) return fail(`SWIMRING_OPS_ADDR "${env.SWIMRING_OPS_ADDR}" is not host:port`, 2);
  const res = await exchange('GET', `${base}/readyz`);
  const text = res.text;
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: fails below
  }
  if (startupPasses(res.status, body)) {
    process.stdout.write(`startup: ok (${res.status})\n`);
    return 0;
  }
  return fail(`startup: not yet (${res.status} ${text.slice(0, 300)})`, 1);
}

async function leave(env, waitMs) {
  const base = localUrl(env.SWIMRING_HTTP_ADDR, '127.0.0.1:7948');
  if (!base) return fail(`SWIMRING_HTTP_ADDR "${env.SWIMRING_HTTP_ADDR}" is not host:port`, 2);
  const token = adminToken(env);
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  let code = 0;
  try {
    const res = await exchange('POST', `${base}/v1/leave`, { ...headers, 'content-length': '0' });
    if (res.status !== 202) code = fail(`leave: POST /v1/leave answered ${res.status}`, 1);
    else process.stdout.write('leave: started\n');
  } catch (err) {
    // SIGTERM still leaves gracefully; a failed hook must not hold termination up.
    code = fail(`leave: ${err instanceof Error ? err.message : String(err)}`, 1);
  }
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
  return code;
}

function fail(message, code) {
  process.stderr.write(`${message}\n`);
  return code;
}

const USAGE = 'usage: swimring-hook.mjs leave [--wait-ms N] | startup\n';

export async function main(argv, env) {
  const [command, ...rest] = argv;
  if (command === 'startup' && rest.length === 0) return startup(env).catch((err) => fail(`startup: ${err instanceof Error ? err.message : String(err)}`, 1));
  if (command === 'leave') {
    let waitMs = 0;
    if (rest.length === 2 && rest[0] === '--wait-ms' && /^\d{1,7}$/.test(rest[1] ?? '')) waitMs = Number(rest[1]);
    else if (rest.length !== 0) return fail(USAGE, 2);
    return leave(env, waitMs);
  }
  return fail(USAGE, 2);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), process.env).then((code) => process.exit(code));
}
