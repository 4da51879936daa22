// Digest anti-entropy with REAL sidecars after a REAL partition: 10 `node dist/main.js agent`
// processes on 127.0.0.80-89, 100,000 claims made through the HTTP claims API, a 5|5 partition of
// gossip (UDP) and gRPC (TCP) for 60 s with nftables, claims made and released on both sides while the
// other side is declared dead, then the heal: time until every member holds the same claims and the
// bytes it took. Repeated per --anti-entropy mode in one run, so the ratios compare like with like.
//
// Cutting TCP on loopback: a sidecar's outgoing gRPC leaves from 127.0.0.1, not from its own address,
// so the source address cannot tell the halves apart. Each half runs with its own group id instead
// (uid stays root) and the rules match the sending socket's group (`meta skgid`): a half's packets
// to the other half's addresses are dropped, UDP and TCP alike. The rules only touch these processes.
//
//   npm run build && node --import tsx bench/antientropy/cluster.ts [--modes digest,full,negotiate]
//        [--claims 100000] [--churn 2000] [--partition-s 60] [--push-pull-ms 10000] [--json]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { GrpcDigestPeer } from '../../src/antientropy/grpc.js';
import type { RootInfo } from '../../src/antientropy/types.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { DEFAULT_LIMITS } from '../../src/grpc/limits.js';
import { metricValue } from '../../test/support/poll.js';

type Mode = 'digest' | 'full' | 'negotiate';

interface Args {
  modes: Mode[];
  members: number;
  claims: number;
  churn: number;
  partitionS: number;
  pushPullMs: number;
  healTimeoutS: number;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { modes: ['digest', 'full'], members: 10, claims: 100_000, churn: 2000, partitionS: 60, pushPullMs: 10_000, healTimeoutS: 150, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): number => Number(argv[++i]);
    if (a === '--json') args.json = true;
    else if (a === '--modes') args.modes = (argv[++i] ?? '').split(',').filter((m): m is Mode => m === 'digest' || m === 'full' || m === 'negotiate');
    else if (a === '--members') args.members = next();
    else if (a === '--claims') args.claims = next();
    else if (a === '--churn') args.churn = next();
    else if (a === '--partition-s') args.partitionS = next();
    else if (a === '--push-pull-ms') args.pushPullMs = next();
    else if (a === '--heal-timeout-s') args.healTimeoutS = next();
  }
  if (args.members < 2 || args.members > 10) throw new RangeError('--members: 2..10 (addresses 127.0.0.80-89)');
  return args;
}

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const HOST_BASE = 80;
/** Group ids of the two halves; only the nftables rules use them. */
const SIDE_GIDS = [4801, 4802] as const;
const NFT_TABLE = `swimring_bench_ae_${process.pid}`;
const BATCH = 1000;

class Sidecar {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  readonly logs: string[] = [];
  running = true;

  constructor(
    readonly name: string,
    readonly host: string,
    readonly portBase: number,
    gid: number,
    args: readonly string[],
  ) {
    this.child = spawn(process.execPath, [MAIN, 'agent', ...args], {
      gid,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SWIMRING_LOG_LEVEL: 'warn' },
    });
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) if (line) this.logs.push(line);
      if (this.logs.length > 200) this.logs.splice(0, this.logs.length - 200);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = once(this.child, 'exit').then(() => {
      this.running = false;
    });
  }

  get http(): string {
    return `http://${this.host}:${this.portBase + 2}`;
  }
  get grpcAddr(): string {
    return `${this.host}:${this.portBase + 1}`;
  }

  async stop(): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    process.kill(this.child.pid, 'SIGKILL');
    await this.exited;
  }

  async get<T>(path: string, base = this.http): Promise<{ status: number; body: T }> {
    const res = await fetch(base + path, { signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    return { status: res.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as T };
  }

  async claim(ids: readonly string[]): Promise<number> {
    const res = await fetch(this.http + '/v1/claims', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids, ttl_ms: null }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await res.json()) as { results?: { status: string }[] };
    if (res.status !== 200) throw new Error(`${this.name}: POST /v1/claims ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    return (body.results ?? []).filter((r) => r.status === 'claimed' || r.status === 'renewed').length;
  }

  async release(id: string): Promise<boolean> {
    const res = await fetch(`${this.http}/v1/claims/${encodeURIComponent(id)}`, { method: 'DELETE', signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    if (res.status !== 200 && process.env.BENCH_DEBUG) log(`${this.name}: DELETE ${id} ${res.status} ${text.slice(0, 200)}`);
    return res.status === 200;
  }

  async metrics(): Promise<string> {
    const res = await fetch(`http://${this.host}:${this.portBase + 3}/metrics`, { signal: AbortSignal.timeout(15_000) });
    return res.text();
  }
}

function nft(script: string): void {
  execFileSync('nft', ['-f', '-'], { input: script + '\n', stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
}

function nftDeleteTable(): void {
  try {
    execFileSync('nft', ['delete', 'table', 'inet', NFT_TABLE], { stdio: 'pipe', timeout: 10_000 });
  } catch {
    // not there
  }
}

/** Counters of the sidecars' own traffic (matched by their group ids) on the gossip and gRPC ports. */
function installCounters(portBase: number): void {
  nftDeleteTable();
  const gids = `{ ${SIDE_GIDS.join(', ')} }`;
  nft(
    [
      `table inet ${NFT_TABLE} {`,
      '  chain count {',
      '    type filter hook output priority -10; policy accept;',
      `    meta skgid ${gids} udp dport ${portBase} counter comment "gossip"`,
      `    meta skgid ${gids} tcp dport ${portBase + 1} counter comment "grpc_req"`,
      `    meta skgid ${gids} tcp sport ${portBase + 1} counter comment "grpc_rep"`,
      '  }',
      '  chain cut {',
      '    type filter hook output priority 0; policy accept;',
      '  }',
      '}',
    ].join('\n'),
  );
}

function cut(sides: readonly (readonly string[])[]): void {
  const [a, b] = sides as [readonly string[], readonly string[]];
  nft(
    [
      `add rule inet ${NFT_TABLE} cut meta skgid ${SIDE_GIDS[0]} ip daddr { ${b.join(', ')} } drop`,
      `add rule inet ${NFT_TABLE} cut meta skgid ${SIDE_GIDS[1]} ip daddr { ${a.join(', ')} } drop`,
    ].join('\n'),
  );
}

function heal(): void {
  nft(`flush chain inet ${NFT_TABLE} cut`);
}

interface Traffic {
  gossip: number;
  grpc: number;
}

function readCounters(): Traffic {
  const text = execFileSync('nft', ['list', 'chain', 'inet', NFT_TABLE, 'count'], { encoding: 'utf8', timeout: 10_000 });
  const t: Traffic = { gossip: 0, grpc: 0 };
  for (const line of text.split('\n')) {
    const m = /bytes (\d+) comment "(\w+)"/.exec(line);
    if (!m) continue;
    if (m[2] === 'gossip') t.gossip += Number(m[1]);
    else t.grpc += Number(m[1]);
  }
  return t;
}

interface Snapshot {
  aeBytes: number;
  rounds: Record<string, number>;
  claimsReceived: number;
  releasedOnDeparture: number;
  traffic: Traffic;
}

const ROUND_RESULTS = ['in_sync', 'repaired', 'failed', 'fallback'] as const;

async function snapshot(nodes: readonly Sidecar[]): Promise<Snapshot> {
  const texts = await Promise.all(nodes.map((n) => n.metrics()));
  const sum = (name: string, filter = ''): number => texts.reduce((s, t) => s + metricValue(t, name, filter), 0);
  const rounds: Record<string, number> = {};
  for (const r of ROUND_RESULTS) rounds[r] = sum('swimring_antientropy_rounds_total', `result="${r}"`);
  return {
    aeBytes: sum('swimring_antientropy_bytes_total'),
    rounds,
    claimsReceived: sum('swimring_antientropy_entries_received_total', 'tree="claims"'),
    releasedOnDeparture: sum('swimring_claims_released_on_departure_total'),
    traffic: readCounters(),
  };
}

interface MemberState {
  claims: number;
  live: number;
  claimsRoot: string;
  membersRoot: string;
}

async function memberState(client: ControlPlaneClient, n: Sidecar): Promise<MemberState | undefined> {
  try {
    const [ping, roots] = await Promise.all([client.ping(n.grpcAddr, 5000), new GrpcDigestPeer(client, n.grpcAddr, 5000, DEFAULT_LIMITS).exchangeRoots([])]);
    const hex = (r: RootInfo | undefined): string => (r ? `${r.root.hi.toString(16)}:${r.root.lo.toString(16)}/${r.entries}` : '-');
    return {
      claims: ping.claims,
      live: ping.liveMembers,
      claimsRoot: hex(roots.find((r) => r.tree === 'claims')),
      membersRoot: hex(roots.find((r) => r.tree === 'members')),
    };
  } catch {
    return undefined;
  }
}

async function pollUntil(what: string, timeoutMs: number, check: () => Promise<boolean>, everyMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Runs `tasks` with at most `width` in flight. */
async function pool<T>(tasks: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
  return out;
}

interface Result {
  mode: Mode;
  claimedBefore: number;
  deadAfterS: number | null;
  releasedOnDeparture: number;
  churnClaimed: number;
  churnReleased: number;
  expectedClaims: number;
  membersAliveS: number | null;
  sameCountS: number | null;
  sameRootsS: number | null;
  converged: boolean;
  finalCounts: number[];
  aeBytes: number;
  /** Bytes from the heal until every member held the expected claim count (null: never). */
  aeBytesToCount: number | null;
  grpcBytesToCount: number | null;
  grpcBytes: number;
  gossipBytes: number;
  rounds: Record<string, number>;
  claimsReceived: number;
  inSyncBytesPerRound: number | null;
  inSyncGrpcBytesPerS: number | null;
}

function diff(a: Snapshot, b: Snapshot): { aeBytes: number; grpc: number; gossip: number; rounds: Record<string, number>; claimsReceived: number } {
  const rounds: Record<string, number> = {};
  for (const r of ROUND_RESULTS) rounds[r] = (b.rounds[r] ?? 0) - (a.rounds[r] ?? 0);
  return { aeBytes: b.aeBytes - a.aeBytes, grpc: b.traffic.grpc - a.traffic.grpc, gossip: b.traffic.gossip - a.traffic.gossip, rounds, claimsReceived: b.claimsReceived - a.claimsReceived };
}

const log = (msg: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};

async function runMode(mode: Mode, args: Args, client: ControlPlaneClient): Promise<Result> {
  const portBase = 20_000 + Math.floor(Math.random() * 3000) * 10;
  const half = Math.floor(args.members / 2);
  const hosts = Array.from({ length: args.members }, (_, i) => `127.0.0.${HOST_BASE + i}`);
  const sides = [hosts.slice(0, half), hosts.slice(half)] as const;
  const sideOf = (i: number): 0 | 1 => (i < half ? 0 : 1);
  const nodes: Sidecar[] = [];
  installCounters(portBase);
  try {
    for (let i = 0; i < args.members; i++) {
      const host = hosts[i]!;
      const a = [
        '--name', `ae-${i}`,
        '--gossip-addr', `${host}:${portBase}`,
        '--grpc-addr', `${host}:${portBase + 1}`,
        '--http-addr', `${host}:${portBase + 2}`,
        '--ops-addr', `${host}:${portBase + 3}`,
        '--advertise-host', host,
        '--app-addr', `${host}:${portBase + 4}`,
        '--profile', 'lan',
        '--shards', '4096',
        '--push-pull-interval-ms', String(args.pushPullMs),
        '--anti-entropy', mode,
        ...(i === 0 ? [] : ['--seeds', `${hosts[0]}:${portBase + 1}`]),
      ];
      nodes.push(new Sidecar(`ae-${i}`, host, portBase, SIDE_GIDS[sideOf(i)], a));
    }
    await pollUntil(`${args.members} members ready, one table`, 60_000, async () => {
      const versions = new Set<string>();
      for (const n of nodes) {
        if ((await n.get('/readyz', `http://${n.host}:${n.portBase + 3}`)).status !== 200) return false;
        const t = await n.get<{ version: string; members: number }>('/v1/table');
        if (t.body.members !== args.members) return false;
        versions.add(t.body.version);
      }
      return versions.size === 1;
    });
    log(`${mode}: ${args.members} members up; claiming ${args.claims}`);

    // Ids k-j are claimed by member j % members, 1,000 per call, one call per member in flight.
    const perMember = nodes.map((_, i) => Array.from({ length: Math.ceil((args.claims - i) / args.members) }, (_, k) => `k-${k * args.members + i}`));
    const counts = await Promise.all(
      nodes.map(async (n, i) => {
        let made = 0;
        const ids = perMember[i]!;
        for (let s = 0; s < ids.length; s += BATCH) made += await n.claim(ids.slice(s, s + BATCH));
        return made;
      }),
    );
    const claimedBefore = counts.reduce((s, c) => s + c, 0);
    await pollUntil('one view of the claims before the partition', 120_000, async () => {
      const st = await Promise.all(nodes.map((n) => memberState(client, n)));
      return st.every((s) => s?.claims === claimedBefore && s.claimsRoot === st[0]?.claimsRoot);
    });
    log(`${mode}: ${claimedBefore} claims, one view; partition ${half}|${args.members - half} for ${args.partitionS} s`);

    const before = await snapshot(nodes);
    cut(sides);
    const cutAt = Date.now();
    // Each half claims `churn` new ids and releases churn/2 of its own old ones.
    const churnWork = await Promise.all(
      [0, 1].map(async (side) => {
        const members = nodes.map((n, i) => ({ n, i })).filter((x) => sideOf(x.i) === side);
        let claimed = 0;
        let released = 0;
        await Promise.all(
          members.map(async ({ n, i }, k) => {
            const share = Math.floor(args.churn / members.length) + (k < args.churn % members.length ? 1 : 0);
            const fresh = Array.from({ length: share }, (_, j) => `p${side}-${i}-${j}`);
            // Sum after each await: `x += await y` would read x before the other members' awaits land.
            for (let s = 0; s < fresh.length; s += BATCH) {
              const made = await n.claim(fresh.slice(s, s + BATCH));
              claimed += made;
            }
            const old = perMember[i]!.slice(0, Math.floor(share / 2));
            const ok = await pool(old.map((id) => () => n.release(id)), 8);
            released += ok.filter(Boolean).length;
          }),
        );
        return { claimed, released };
      }),
    );
    const churnClaimed = churnWork.reduce((s, w) => s + w.claimed, 0);
    const churnReleased = churnWork.reduce((s, w) => s + w.released, 0);
    let deadAfterS: number | null = null;
    const otherSideDead = async (): Promise<boolean> => {
      const views = await Promise.all(nodes.map((n) => n.get<{ members: { name: string; state: string }[] }>('/v1/members')));
      return views.every((v, i) => v.body.members.filter((m) => m.state === 'alive').length === (sideOf(i) === 0 ? half : args.members - half));
    };
    try {
      await pollUntil('the other half declared dead everywhere', args.partitionS * 1000, otherSideDead, 1000);
      deadAfterS = (Date.now() - cutAt) / 1000;
    } catch {
      // reported as null
    }
    const left = args.partitionS * 1000 - (Date.now() - cutAt);
    if (left > 0) await sleep(left);
    const atHeal = await snapshot(nodes);
    log(`${mode}: partition over (dead after ${deadAfterS ?? '-'} s, claims dropped on departure ${atHeal.releasedOnDeparture - before.releasedOnDeparture}); healing`);

    heal();
    const healAt = Date.now();
    const expectedClaims = claimedBefore + churnClaimed - churnReleased;
    let membersAliveS: number | null = null;
    let sameCountS: number | null = null;
    let sameRootsS: number | null = null;
    let finalCounts: number[] = [];
    let atCount: Snapshot | undefined;
    const deadline = healAt + args.healTimeoutS * 1000;
    while (Date.now() < deadline) {
      const st = await Promise.all(nodes.map((n) => memberState(client, n)));
      const t = (Date.now() - healAt) / 1000;
      finalCounts = st.map((s) => s?.claims ?? -1);
      if (membersAliveS === null && st.every((s) => s?.live === args.members)) membersAliveS = t;
      if (sameCountS === null && st.every((s) => s?.claims === expectedClaims)) {
        sameCountS = t;
        atCount = await snapshot(nodes);
      }
      if (st.every((s) => s !== undefined && s.claimsRoot === st[0]?.claimsRoot && s.membersRoot === st[0]?.membersRoot && s.live === args.members)) {
        sameRootsS = t;
        break;
      }
      await sleep(500);
    }
    const atView = await snapshot(nodes);
    const d = diff(atHeal, atView);
    const dc = atCount ? diff(atHeal, atCount) : undefined;
    log(`${mode}: churn +${churnClaimed} -${churnReleased}, expect ${expectedClaims}; heal -> members ${membersAliveS ?? '-'} s, counts ${sameCountS ?? '-'} s, roots ${sameRootsS ?? '-'} s; counts ${finalCounts.join(',')}`);

    // Once in sync: what the next rounds cost.
    let inSyncBytesPerRound: number | null = null;
    let inSyncGrpcBytesPerS: number | null = null;
    if (sameRootsS !== null) {
      const t0 = Date.now();
      await sleep(2 * args.pushPullMs);
      const s2 = await snapshot(nodes);
      const d2 = diff(atView, s2);
      const rounds = ROUND_RESULTS.reduce((s, r) => s + (d2.rounds[r] ?? 0), 0);
      inSyncBytesPerRound = rounds > 0 ? Math.round(d2.aeBytes / rounds) : null;
      inSyncGrpcBytesPerS = Math.round(d2.grpc / ((Date.now() - t0) / 1000));
    }
    return {
      mode,
      claimedBefore,
      deadAfterS,
      releasedOnDeparture: atHeal.releasedOnDeparture - before.releasedOnDeparture,
      churnClaimed,
      churnReleased,
      expectedClaims,
      membersAliveS,
      sameCountS,
      sameRootsS,
      converged: sameRootsS !== null,
      finalCounts,
      aeBytes: d.aeBytes,
      aeBytesToCount: dc?.aeBytes ?? null,
      grpcBytesToCount: dc?.grpc ?? null,
      grpcBytes: d.grpc,
      gossipBytes: d.gossip,
      rounds: d.rounds,
      claimsReceived: d.claimsReceived,
      inSyncBytesPerRound,
      inSyncGrpcBytesPerS,
    };
  } catch (err) {
    for (const n of nodes) if (n.logs.length) process.stderr.write(`--- ${n.name}\n${n.logs.slice(-10).join('\n')}\n`);
    throw err;
  } finally {
    nftDeleteTable();
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

const fmt = (n: number | null): string => (n === null ? '-' : n.toLocaleString('en-US'));

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const client = new ControlPlaneClient({ sender: 'bench-ae' });
  const onSignal = (): void => {
    nftDeleteTable();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const results: Result[] = [];
  const failures: string[] = [];
  try {
    for (const mode of args.modes) {
      // One mode failing (e.g. never reaching one view) must not lose the others' numbers.
      try {
        const r = await runMode(mode, args, client);
        results.push(r);
        log(`${mode}: ${JSON.stringify(r)}`);
      } catch (err) {
        log(`${mode}: FAILED ${String(err)}`);
        failures.push(`${mode}: ${String(err)}`);
      }
    }
  } finally {
    client.close();
    nftDeleteTable();
  }
  if (args.json) {
    process.stdout.write(JSON.stringify({ args, results, failures }, null, 2) + '\n');
    return;
  }
  console.log(`${args.members} sidecars, lan profile, push-pull ${args.pushPullMs} ms, ${fmt(args.claims)} claims, partition ${args.partitionS} s, churn ${args.churn} per side`);
  console.log('| exchange | other half dead after s | claims dropped on departure | heal → all alive s | → same claim count s | → same roots s | AE bytes to same count | all gRPC bytes to same count | AE bytes to same roots (or timeout) | all gRPC bytes (same) | gossip bytes | rounds (in_sync/repaired/failed/fallback) | claims received by AE | per round once in sync |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const r of results) {
    const rounds = ROUND_RESULTS.map((k) => r.rounds[k] ?? 0).join('/');
    console.log(
      `| ${r.mode} | ${r.deadAfterS ?? '-'} | ${fmt(r.releasedOnDeparture)} | ${r.membersAliveS ?? '-'} | ${r.sameCountS ?? '-'} | ${r.sameRootsS ?? `not in ${args.healTimeoutS}`} | ${fmt(r.aeBytesToCount)} | ${fmt(r.grpcBytesToCount)} | ${fmt(r.aeBytes)} | ${fmt(r.grpcBytes)} | ${fmt(r.gossipBytes)} | ${rounds} | ${fmt(r.claimsReceived)} | ${fmt(r.inSyncBytesPerRound)} |`,
    );
  }
  const digest = results.find((r) => r.mode === 'digest');
  const full = results.find((r) => r.mode === 'full');
  if (digest && full && digest.aeBytesToCount !== null && full.aeBytesToCount) {
    console.log(`digest/full to the same claim count: anti-entropy bytes ${(digest.aeBytesToCount / full.aeBytesToCount).toFixed(2)}, all gRPC bytes ${((digest.grpcBytesToCount ?? 0) / Math.max(1, full.grpcBytesToCount ?? 0)).toFixed(2)}`);
  }
  if (digest && full && full.aeBytes > 0) {
    console.log(`digest/full to same roots (or timeout): anti-entropy bytes ${(digest.aeBytes / full.aeBytes).toFixed(2)}, all gRPC bytes ${(digest.grpcBytes / Math.max(1, full.grpcBytes)).toFixed(2)}`);
  }
  for (const f of failures) console.log(`FAILED ${f}`);
  if (failures.length) process.exitCode = 1;
}

await main();
