// `swimring info`, `swimring watch` and `swimring force-leave NAME`: this member at a glance, its
// membership and move events as they happen, and an operator's force-leave of a dead member.
import { cliAdminToken } from '../http/admin-token.js';
import type { ForceLeaveSummary } from '../runtime/force-leave.js';
import type { AgentInfo, WatchEvent } from '../runtime/view.js';
import { getJson, parseClientArgs, table } from './client.js';

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function runInfo(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const parsed = parseClientArgs(argv, false);
  if (typeof parsed === 'string') {
    console.error(`swimring info: ${parsed}\nusage: swimring info [--http-addr HOST:PORT] [--json]`);
    return 2;
  }
  let info: AgentInfo;
  try {
    info = (await getJson(parsed.flags, '/v1/info')) as AgentInfo;
  } catch (err) {
    console.error(`swimring info: cannot reach the agent at ${parsed.flags.httpAddr}: ${errorText(err)}`);
    return 1;
  }
  if (parsed.flags.json) {
    out(JSON.stringify(info, null, 2));
    return 0;
  }
  const health = (h: AgentInfo['ready']): string => (h.ok ? 'yes' : `no: ${h.reasons.join('; ')}`);
  const m = info.members;
  const owners = Object.entries(info.table.shardsPerMember).sort((a, b) => b[1] - a[1]);
  out(
    table([
      ['name', info.name],
      ['ready', health(info.ready)],
      ['live', health(info.live)],
      ['health score', info.healthScore === null ? '-' : `${info.healthScore} (0 is healthy)`],
      ['members', `${m.total} (alive ${m.alive}, suspect ${m.suspect}, dead ${m.dead}, left ${m.left})`],
      ['table', `version ${info.version}, ${info.table.shards} shards, ${info.table.replicas} replicas, ${info.table.members} owners`],
      ['shards', owners.map(([name, n]) => `${name} ${n}`).join(', ') || '(no owner)'],
      ['claims', info.claims === null ? '-' : String(info.claims)],
      ['listeners', Object.entries(info.listeners).map(([k, v]) => `${k} ${v}`).join(', ')],
    ]),
  );
  return 0;
}

/** A moves event as "A -> B: n" per owner move group; the shard lists may be numbers or ranges. */
export function describeMoves(event: Extract<WatchEvent, { type: 'moves' }>): string {
  const groups = event.moves.filter((g) => g.role === 'owner').map((g) => `${g.from ?? '(none)'} -> ${g.to ?? '(none)'}: ${g.count}`);
  return `table ${event.previousVersion} -> ${event.version}: ${event.ownerMoves} owner and ${event.replicaMoves} replica moves${groups.length > 0 ? `; ${groups.join(', ')}` : ''}`;
}

function describe(event: WatchEvent): string {
  switch (event.type) {
    case 'snapshot': {
      const states = new Map<string, number>();
      for (const m of event.members) states.set(m.state, (states.get(m.state) ?? 0) + 1);
      return `snapshot  table ${event.version}: ${event.members.length} members (${[...states].map(([s, n]) => `${n} ${s}`).join(', ')})`;
    }
    case 'member':
      return `member    ${event.name} ${event.from ?? '(new)'} -> ${event.to} (incarnation ${event.incarnation}, ${event.reason}${event.serving === undefined ? '' : event.serving ? ', serving' : ', not serving'})`;
    case 'moves':
      return `moves     ${describeMoves(event)}`;
    case 'claim':
      return `claim     ${event.id} ${event.change}${event.owner === null ? '' : ` (owner now ${event.owner})`}`;
  }
}

/** Splits an event stream's text into events: [event name, data]. */
function* sseEvents(buffer: { text: string }): Generator<[string, string]> {
  let end: number;
  while ((end = buffer.text.indexOf('\n\n')) >= 0) {
    const block = buffer.text.slice(0, end);
    buffer.text = buffer.text.slice(end + 2);
    let name = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) name = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) yield [name, data.join('\n')];
  }
}

export async function runWatch(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const parsed = parseClientArgs(argv, false, { count: { type: 'string' } });
  const countText = typeof parsed === 'string' ? undefined : parsed.values['count'];
  const count = typeof countText === 'string' ? Number(countText) : Infinity;
  if (typeof parsed === 'string' || !(count > 0 && (Number.isInteger(count) || count === Infinity))) {
    console.error(`swimring watch: ${typeof parsed === 'string' ? parsed : '--count takes a whole number above 0'}\nusage: swimring watch [--count N] [--http-addr HOST:PORT] [--json]`);
    return 2;
  }
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  let seen = 0;
  try {
    const res = await fetch(`http://${parsed.flags.httpAddr}/v1/watch`, {
      headers: parsed.flags.token ? { authorization: `Bearer ${parsed.flags.token}` } : {},
      signal: stop.signal,
    });
    if (!res.ok || res.body === null) throw new Error(`agent answered ${res.status}: ${await res.text()}`);
    const buffer = { text: '' };
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      buffer.text += decoder.decode(chunk as Uint8Array, { stream: true });
      for (const [name, data] of sseEvents(buffer)) {
        if (name === 'error') {
          console.error(`swimring watch: the agent ended the stream: ${data}`);
          return 1;
        }
        const time = new Date().toISOString().slice(11, 23);
        out(parsed.flags.json ? data : `${time} ${describe(JSON.parse(data) as WatchEvent)}`);
        if (++seen >= count) {
          stop.abort();
          return 0;
        }
      }
    }
    console.error('swimring watch: the agent closed the stream');
    return 1;
  } catch (err) {
    if (stop.signal.aborted) return 0;
    console.error(`swimring watch: cannot watch the agent at ${parsed.flags.httpAddr}: ${errorText(err)}`);
    return 1;
  }
}

export async function runForceLeave(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const parsed = parseClientArgs(argv, true, { 'admin-token-file': { type: 'string' } });
  if (typeof parsed === 'string' || parsed.positionals.length !== 1) {
    console.error(`swimring force-leave: ${typeof parsed === 'string' ? parsed : 'give exactly one member NAME'}\nusage: swimring force-leave NAME [--http-addr HOST:PORT] [--admin-token-file FILE] [--json]`);
    return 2;
  }
  const name = parsed.positionals[0] ?? '';
  const tokenFile = parsed.values['admin-token-file'];
  const token = cliAdminToken(process.env, typeof tokenFile === 'string' ? tokenFile : undefined);
  if (!token.ok) {
    console.error(`swimring force-leave: ${token.problem}`);
    return 1;
  }
  let summary: ForceLeaveSummary;
  try {
    summary = (await getJson({ ...parsed.flags, token: token.token }, `/v1/members/${encodeURIComponent(name)}/force-leave`, {})) as ForceLeaveSummary;
  } catch (err) {
    console.error(`swimring force-leave: ${errorText(err)}`);
    return 1;
  }
  if (parsed.flags.json) out(JSON.stringify(summary, null, 2));
  else out(formatForceLeave(summary));
  return summary.left === summary.members ? 0 : 1;
}

export function formatForceLeave(s: ForceLeaveSummary): string {
  const lines = [`${s.name} is marked left on ${s.left}/${s.members} members`];
  for (const r of s.results) {
    if (r.error === undefined) continue;
    const refusal = REFUSALS.get(r.error);
    lines.push(refusal === undefined ? `  failed on ${r.member}: ${r.error}` : `  refused by ${r.member}: ${refusal}`);
  }
  return lines.join('\n');
}

const REFUSALS: ReadonlyMap<string, string> = new Map([
  ['alive', 'it holds the member alive'],
  ['suspect', 'it holds the member suspect'],
  ['self', 'it is that member (it is running)'],
  ['unknown', 'the member is not in its view'],
]);
