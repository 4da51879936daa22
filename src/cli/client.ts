// `swimring members` and `swimring route KEY`: ask a running agent over its local HTTP API and print a
// table, or the agent's JSON with --json.
import { parseArgs } from 'node:util';
import { cliAdminToken } from '../http/admin-token.js';
import type { MemberView, RouteAnswer } from '../runtime/view.js';

const DEFAULT_HTTP = '127.0.0.1:7948';

interface ClientFlags {
  httpAddr: string;
  json: boolean;
  token: string | undefined;
}

function parseClientArgs(argv: string[], allowPositionals: boolean): { flags: ClientFlags; positionals: string[] } | string {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals,
      options: {
        'http-addr': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    return {
      flags: {
        httpAddr: values['http-addr'] ?? process.env.SWIMRING_HTTP_ADDR ?? DEFAULT_HTTP,
        json: values.json ?? false,
        token: process.env.SWIMRING_HTTP_TOKEN,
      },
      positionals,
    };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** GET `path`, or POST `body` as JSON to it when a body is given. */
async function getJson(flags: ClientFlags, path: string, body?: unknown): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (flags.token) headers.authorization = `Bearer ${flags.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`http://${flags.httpAddr}${path}`, {
    headers,
    signal: AbortSignal.timeout(5000),
    ...(body !== undefined ? { method: 'POST', body: JSON.stringify(body) } : {}),
  });
  const answer: unknown = await res.json();
  if (!res.ok) throw new Error(`agent answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export async function runMembers(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const parsed = parseClientArgs(argv, false);
  if (typeof parsed === 'string') {
    console.error(`swimring members: ${parsed}\nusage: swimring members [--http-addr HOST:PORT] [--json]`);
    return 2;
  }
  try {
    const body = (await getJson(parsed.flags, '/v1/members')) as { version: string; members: MemberView[] };
    if (parsed.flags.json) {
      out(JSON.stringify(body, null, 2));
      return 0;
    }
    const rows = [['NAME', 'STATE', 'SERVING', 'INCARNATION', 'GOSSIP', 'GRPC', 'APP']];
    for (const m of [...body.members].sort((a, b) => a.name.localeCompare(b.name))) {
      rows.push([m.name + (m.self ? ' *' : ''), m.state, String(m.serving), String(m.incarnation), m.addresses.gossip, m.addresses.grpc, m.addresses.app || '-']);
    }
    out(table(rows));
    out(`table version ${body.version}`);
    return 0;
  } catch (err) {
    console.error(`swimring members: cannot reach the agent at ${parsed.flags.httpAddr}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

export async function runRoute(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const parsed = parseClientArgs(argv, true);
  if (typeof parsed === 'string' || parsed.positionals.length === 0) {
    console.error(`swimring route: ${typeof parsed === 'string' ? parsed : 'missing KEY'}\nusage: swimring route KEY [KEY...] [--http-addr HOST:PORT] [--json]`);
    return 2;
  }
  try {
    // One batch request: every answer comes from the same table version.
    const answers =
      parsed.positionals.length === 1
        ? [(await getJson(parsed.flags, `/v1/route/${encodeURIComponent(parsed.positionals[0]!)}`)) as RouteAnswer]
        : ((await getJson(parsed.flags, '/v1/route', { keys: parsed.positionals })) as { routes: RouteAnswer[] }).routes;
    if (parsed.flags.json) {
      out(JSON.stringify(answers.length === 1 ? answers[0] : answers, null, 2));
      return 0;
    }
    const rows = [['KEY', 'SHARD', 'OWNER', 'APP', 'REPLICAS', 'VERSION']];
    for (const a of answers) {
      rows.push([a.key, String(a.shard), a.owner?.name ?? '(none)', a.owner?.addresses.app || '-', a.replicas.map((r) => r.name).join(',') || '-', a.version]);
    }
    out(table(rows));
    return 0;
  } catch (err) {
    console.error(`swimring route: cannot reach the agent at ${parsed.flags.httpAddr}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

/** `swimring leave`: start the agent's graceful leave (POST /v1/leave, an admin action). */
export async function runLeave(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  let values: { 'http-addr'?: string | undefined; 'admin-token-file'?: string | undefined };
  try {
    values = parseArgs({ args: argv, options: { 'http-addr': { type: 'string' }, 'admin-token-file': { type: 'string' } } }).values;
  } catch (err) {
    console.error(`swimring leave: ${err instanceof Error ? err.message : String(err)}\nusage: swimring leave [--http-addr HOST:PORT] [--admin-token-file FILE]`);
    return 2;
  }
  const httpAddr = values['http-addr'] ?? process.env.SWIMRING_HTTP_ADDR ?? DEFAULT_HTTP;
  const token = cliAdminToken(process.env, values['admin-token-file']);
  if (!token.ok) {
    console.error(`swimring leave: ${token.problem}`);
    return 1;
  }
  try {
    await getJson({ httpAddr, json: false, token: token.token }, '/v1/leave', {});
    out('leaving: the agent announces its leave and exits once the news has spread');
    return 0;
  } catch (err) {
    console.error(`swimring leave: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
