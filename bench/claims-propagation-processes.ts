// Claim -> known by every member, with every member a real sidecar in its own process
// (`node dist/main.js agent` on 127.0.0.160 and up, --profile lan): no member shares an event loop or
// warms up another's code, unlike the in-process mode of bench/claims-propagation.ts.
//
// Per size N: N + 1 sidecars join one cluster; the extra one is the hung peer. Once every member sees
// all N + 1 alive and is ready, the bench follows `GET /v1/watch?claims=all` on each of the N members,
// stops the hung peer with SIGSTOP (its sockets stay open and take connections, nothing answers, until
// SWIM suspects it), and makes claims with `POST /v1/claims` at --rate per second on the members in
// turn for --seconds. A claim's latency runs from sending its POST to the arrival, in this process, of
// the last of the N members' watch events naming its claimant. Then the hung peer is continued and
// every sidecar killed, each by its PID; an interrupt or a failure does the same.
//
// Needs `npm run build` first (it runs dist/main.js) and about 150 MB of memory per sidecar.
// Run: node --import tsx bench/claims-propagation.ts --processes [--sizes 10,50] [--rate 50] [--seconds 20]
//        [--shards 16384] [--settle-s 30] [--start-timeout-s 240]
import { request, type IncomingMessage } from 'node:http';
import { freemem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, converged, waitFor, type SidecarProcess } from '../test/integration/harness.js';
import { takeSseEvents } from '../test/support/sse-client.js';

export interface ProcessBenchOptions {
  readonly sizes: readonly number[];
  readonly rate: number;
  readonly seconds: number;
  readonly shards: number;
  /** Longest wait, after the last claim, for every member to know every claim. */
  readonly settleS: number;
  /** Longest wait for the cluster to form and every member to be ready. */
  readonly startTimeoutS: number;
}

/** First member's address is 127.0.0.HOST_BASE; the hung peer takes the address after the last member. */
const HOST_BASE = 160;
const MAX_MEMBERS = 255 - HOST_BASE - 1;
const BYTES_PER_SIDECAR = 150 * 1024 * 1024;

interface ClaimSeen {
  readonly sentAt: number;
  /** Members whose watch named the claimant. */
  readonly members: Set<string>;
  doneAt: number | null;
}

/** One member's watch stream, each `claims` change handed over with its arrival time. */
function followClaims(node: SidecarProcess, onOwner: (id: string, owner: string, at: number) => void): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let res: IncomingMessage | null = null;
    const req = request(`${node.httpBase}/v1/watch?claims=all`, (r) => {
      res = r;
      if (r.statusCode !== 200) reject(new Error(`${node.name}: GET /v1/watch?claims=all answered ${r.statusCode}`));
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        const at = performance.now();
        buffer = takeSseEvents(buffer + chunk, (e) => {
          if (e.event !== 'claims') return;
          const event = JSON.parse(e.data) as { changes: { id: string; owner: string | null }[] };
          for (const c of event.changes) if (c.owner !== null) onOwner(c.id, c.owner, at);
        });
      });
      resolve({ close: () => res?.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

async function postClaim(node: SidecarProcess, id: string): Promise<void> {
  const res = await fetch(`${node.httpBase}/v1/claims`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ids: [id], ttl_ms: null }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { results?: { status: string }[] };
  if (res.status !== 200 || body.results?.[0]?.status !== 'claimed') throw new Error(`${node.name}: POST /v1/claims ${id}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function runSize(size: number, opts: ProcessBenchOptions, clusters: Set<Cluster>): Promise<void> {
  const cluster = new Cluster(undefined, { hostBase: HOST_BASE, namePrefix: 'c', shards: opts.shards });
  clusters.add(cluster);
  const streams: { close(): void }[] = [];
  let hung: SidecarProcess | null = null;
  try {
    const seed = cluster.start(cluster.spec(0, { profile: 'lan' }));
    await cluster.withLogsOnFailure(() => waitFor('the first member ready', 60_000, async () => (await seed.json('/readyz').catch(() => ({ status: 0 }))).status === 200, 250));
    for (let i = 1; i <= size; i++) cluster.start(cluster.spec(i, { profile: 'lan', ...(i === size ? { name: 'hung' } : {}) }));
    const nodes = cluster.nodes;
    hung = nodes[size] ?? null;
    const members = nodes.slice(0, size);
    const startedAt = performance.now();
    await cluster.withLogsOnFailure(() =>
      waitFor(`${size + 1} members alive in every view, every member ready`, opts.startTimeoutS * 1000, async () => {
        if (!(await converged(nodes).catch(() => false))) return false;
        for (const n of nodes) if ((await n.json('/readyz')).status !== 200) return false;
        return true;
      }, 1000),
    );
    console.log(`members ${size} (+1 hung): cluster formed in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);

    const seen = new Map<string, ClaimSeen>();
    const owners = new Map<string, string>();
    for (const m of members) {
      streams.push(
        await followClaims(m, (id, owner, at) => {
          const s = seen.get(id);
          if (s === undefined || owners.get(id) !== owner || s.members.has(m.name)) return;
          s.members.add(m.name);
          if (s.members.size === size && s.doneAt === null) s.doneAt = at;
        }),
      );
    }
    if (hung === null || hung.child.pid === undefined) throw new Error('the hung peer did not start');
    hung.signal('SIGSTOP');

    const total = Math.round(opts.rate * opts.seconds);
    const start = performance.now();
    const posts: Promise<void>[] = [];
    let failedPosts = 0;
    for (let n = 0; n < total; n++) {
      const wait = start + (n * 1000) / opts.rate - performance.now();
      if (wait > 0) await sleep(wait);
      const id = `cart-${size}-${n}`;
      const claimant = members[n % size];
      if (claimant === undefined) continue;
      owners.set(id, claimant.name);
      seen.set(id, { sentAt: performance.now(), members: new Set(), doneAt: null });
      posts.push(postClaim(claimant, id).catch((err: unknown) => {
        failedPosts++;
        if (failedPosts <= 3) console.error(err instanceof Error ? err.message : String(err));
      }));
    }
    await Promise.all(posts);
    const settleBy = performance.now() + opts.settleS * 1000;
    while (performance.now() < settleBy && [...seen.values()].some((s) => s.doneAt === null)) await sleep(100);

    const latencies = [...seen.values()].flatMap((s) => (s.doneAt === null ? [] : [s.doneAt - s.sentAt])).sort((a, b) => a - b);
    const hungState = (await members[0]?.json<{ members: { name: string; state: string }[] }>('/v1/members'))?.body.members.find((m) => m.name === 'hung')?.state ?? 'unknown';
    console.log(
      `members ${size} (+1 hung, separate processes), ${total} claims at ${opts.rate}/s: known by every member ` +
        `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
        `max ${(latencies[latencies.length - 1] ?? NaN).toFixed(1)} ms; never everywhere within ${opts.settleS} s ${total - latencies.length}; ` +
        `refused POSTs ${failedPosts}; the hung peer is ${hungState} in ${members[0]?.name ?? '?'}'s view at the end`,
    );
  } finally {
    for (const s of streams) s.close();
    hung?.signal('SIGCONT');
    await cluster.stopAll();
    clusters.delete(cluster);
  }
}

export async function runProcessBench(opts: ProcessBenchOptions): Promise<void> {
  for (const size of opts.sizes) {
    if (!Number.isInteger(size) || size < 2 || size > MAX_MEMBERS) throw new RangeError(`--sizes: each 2..${MAX_MEMBERS} (addresses 127.0.0.${HOST_BASE} and up), got ${size}`);
    const need = (size + 1) * BYTES_PER_SIDECAR;
    if (freemem() < need) throw new Error(`${size + 1} sidecars need about ${Math.round(need / 2 ** 20)} MiB free; ${Math.round(freemem() / 2 ** 20)} MiB are`);
  }
  const clusters = new Set<Cluster>();
  // An interrupt ends every sidecar this bench started (by PID, Cluster.stopAll) before exiting.
  const onSignal = (): void => {
    for (const c of clusters) for (const n of c.nodes) n.signal('SIGCONT');
    void Promise.all([...clusters].map((c) => c.stopAll())).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const size of opts.sizes) await runSize(size, opts, clusters);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
