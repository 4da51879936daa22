// `swimring members` and `swimring route KEY`: ask a running agent over its local HTTP API and print a
// table, or the agent's JSON with --json.
import { parseArgs } from 'node:util';
import { cliAdminToken } from '../http/admin-token.js';
import type { MemberView, RouteAnswer } from '../runtime/view.js';

export const DEFAULT_HTTP = '127.0.0.1:7948';

export interface ClientFlags {
  httpAddr: string;
  json: boolean;
  token: string | undefined;
}

type ExtraOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;
type ExtraValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export function parseClientArgs(
  argv: string[],
  allowPositionals: boolean,
  extra: ExtraOptions = {},
): { flags: ClientFlags; positionals: string[]; values: ExtraValues } | string {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals,
      options: {
        ...extra,
        'http-addr': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const httpAddr = values['http-addr'];
    return {
      flags: {
        httpAddr: typeof httpAddr === 'string' ? httpAddr : (process.env.SWIMRING_HTTP_ADDR ?? DEFAULT_HTTP),
        json: values.json === true,
        token: process.env.SWIMRING_HTTP_TOKEN,
      },
      positionals,
      values,
    };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** GET `path`, or POST `body` as JSON to it when a body is given. */
export async function getJson(flags: ClientFlags, path: string, body?: unknown): Promise<unknown> {
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

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

const MEMBERS_USAGE = 'usage: swimring members [--state S[,S]] [--tag K=V]... [--wide] [--http-addr HOST:PORT] [--json]';

export async function runMembers(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const parsed = parseClientArgs(argv, false, { state: { type: 'string', multiple: true }, tag: { type: 'string', multiple: true }, wide: { type: 'boolean', short: 'w' } });
  const filter = typeof parsed === 'string' ? parsed : memberFilter(parsed.values);
  if (typeof parsed === 'string' || typeof filter === 'string') {
    console.error(`swimring members: ${typeof parsed === 'string' ? parsed : String(filter)}\n${MEMBERS_USAGE}`);
    return 2;
  }
  try {
    const body = (await getJson(parsed.flags, '/v1/members')) as { version: string; members: MemberView[] };
    const members = body.members.filter(filter).sort((a, b) => a.name.localeCompare(b.name));
    if (parsed.flags.json) {
      out(JSON.stringify({ ...body, members }, null, 2));
      return 0;
    }
    const wide = parsed.values['wide'] === true;
    const shards = wide ? ((await getJson(parsed.flags, '/v1/table')) as { shardsPerMember: Record<string, number> }).shardsPerMember : {};
    const rows = [['NAME', 'STATE', 'SERVING', 'INCARNATION', ...(wide ? ['SHARDS'] : []), 'GOSSIP', 'GRPC', 'APP', ...(wide ? ['TAGS'] : [])]];
    for (const m of members) {
      const tags = Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(',') || '-';
      const addresses = [m.addresses.gossip, m.addresses.grpc, m.addresses.app || '-'];
      rows.push([m.name + (m.self ? ' *' : ''), m.state, String(m.serving), String(m.incarnation), ...(wide ? [String(shards[m.name] ?? 0)] : []), ...addresses, ...(wide ? [tags] : [])]);
    }
    out(table(rows));
    out(`table version ${body.version}; ${members.length} of ${body.members.length} members shown`);
    return 0;
  } catch (err) {
    console.error(`swimring members: cannot reach the agent at ${parsed.flags.httpAddr}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

const STATES = new Set(['alive', 'suspect', 'dead', 'left']);

/** --state (comma lists, repeatable: any of them) and --tag K=V (repeatable: all of them) as a predicate. */
function memberFilter(values: ExtraValues): ((m: MemberView) => boolean) | string {
  const list = (v: ExtraValues[string]): string[] => (Array.isArray(v) ? v.map(String) : []);
  const states = list(values['state']).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  for (const s of states) if (!STATES.has(s)) return `unknown state "${s}" (alive, suspect, dead, left)`;
  const tags: [string, string][] = [];
  for (const t of list(values['tag'])) {
    const eq = t.indexOf('=');
    if (eq <= 0) return `--tag takes KEY=VALUE, not "${t}"`;
    tags.push([t.slice(0, eq), t.slice(eq + 1)]);
  }
  return (m) => (states.length === 0 || states.includes(m.state)) && tags.every(([k, v]) => m.tags[k] === v);
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
