// swimring-client's consistency with its sidecar, with real sidecars on loopback (127.0.0.150-154, the
// default 2^18 shards): after a kill -9 and after a join, how long until the library answers from the
// table the sidecar answers from (p50/p99 over the repetitions), and how many route() lookups, made
// continuously meanwhile, named the killed member after the sidecar had dropped it (and after the kill).
//
//   node --import tsx bench/client-consistency.ts [--reps 10] [--shards 262144]
// Needs a built dist/ and client/dist (npm run build && npm run build:client). Timings on a shared machine say little.
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, waitFor, type NodeSpec, type SidecarProcess } from '../test/integration/harness.js';
import { SseFollower } from '../test/support/sse-client.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '10' }, shards: { type: 'string', default: '262144' } } });
const REPS = Number(values.reps);
const SHARDS = Number(values.shards);
const client = (await import(new URL('../client/dist/client/src/index.js', import.meta.url).href)) as typeof import('../client/src/index.js');

const cluster = new Cluster();
const host = (i: number): string => `127.0.0.${150 + i}`;
const spec = (i: number, name = `cc-${i}`): NodeSpec => ({ name, host: host(i), portBase: cluster.portBase, seeds: i === 0 ? [] : [`${host(0)}:${cluster.portBase + 1}`], shards: SHARDS });
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

async function tableMembers(node: SidecarProcess): Promise<string[]> {
  return (await node.json<{ members: { name: string }[]; tableMembers: number }>('/v1/table/compact')).body.members.map((m) => m.name);
}

try {
  const home = cluster.start(spec(0));
  for (let i = 1; i < 3; i++) cluster.start(spec(i));
  await waitFor('three owners', 90_000, async () => (await tableMembers(home)).length === 3);
  const ring = await client.connect({ url: home.httpBase });
  // The sidecar's own announcements, timed in this process: the moment the sidecar answers from a version.
  const sse = await SseFollower.open(`${home.httpBase}/v1/watch`);
  const announcedAt = new Map<string, number>();
  /** The member killed in this repetition, and when the sidecar's table first dropped it. */
  let gone: string | null = null;
  let droppedAt = Infinity;
  const installedAt = new Map<string, number>();
  // Versions repeat (a table version is a function of its owners: the kill and the rejoin of each
  // repetition flip between the same two), so each announcement is timed when it arrives, the latest wins.
  let eventsRead = 0;
  const seen = (): void => {
    const fresh = sse.events.slice(eventsRead);
    eventsRead = sse.events.length;
    for (const e of fresh) {
      if (e.event !== 'moves') continue;
      const m = JSON.parse(e.data) as { version: string; moves: { role: string; from: string | null }[] };
      announcedAt.set(m.version, performance.now());
      if (gone !== null && m.moves.some((g) => g.role === 'owner' && g.from === gone)) droppedAt = Math.min(droppedAt, performance.now());
    }
  };
  const poll = setInterval(seen, 1);
  ring.on('moves', (m) => installedAt.set(m.version, performance.now()));

  // Lookups all the time, on keys of 16 bytes, in batches between turns of the event loop.
  let lookups = 0;
  let goneAfterKill = 0;
  let goneAfterSidecar = 0;
  let killedAt = 0;
  let running = true;
  const keys = Array.from({ length: 4096 }, (_, i) => `cart-${String(i).padStart(11, '0')}`);
  void (async () => {
    while (running) {
      for (const k of keys) {
        lookups++;
        if (ring.ownerName(k) === gone) {
          goneAfterKill++;
          if (performance.now() >= droppedAt) goneAfterSidecar++;
        }
      }
      await new Promise((r) => setImmediate(r));
    }
  })();

  const lags: Record<'kill' | 'join', number[]> = { kill: [], join: [] };
  const goneCounts: { afterKill: number; afterSidecar: number }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    // kill -9 of cc-1, then its name back as a new process (a join).
    const victim = cluster.nodes.find((n) => n.name === 'cc-1' && n.running)!;
    gone = 'cc-1';
    goneAfterKill = 0;
    goneAfterSidecar = 0;
    droppedAt = Infinity;
    killedAt = performance.now();
    await victim.stop();
    const afterKill = await waitFor('cc-1 dropped', 120_000, async () => ((await tableMembers(home)).includes('cc-1') ? undefined : (await home.json<{ version: string }>('/v1/table/compact')).body.version));
    await waitFor('library at the version', 60_000, async () => ring.version === afterKill);
    await sleep(200);
    lags.kill.push((installedAt.get(afterKill) ?? NaN) - (announcedAt.get(afterKill) ?? NaN));
    goneCounts.push({ afterKill: goneAfterKill, afterSidecar: goneAfterSidecar });
    gone = null;
    cluster.start(spec(1));
    const afterJoin = await waitFor('cc-1 back', 120_000, async () => ((await tableMembers(home)).includes('cc-1') ? (await home.json<{ version: string }>('/v1/table/compact')).body.version : undefined));
    await waitFor('library at the version', 60_000, async () => ring.version === afterJoin);
    lags.join.push((installedAt.get(afterJoin) ?? NaN) - (announcedAt.get(afterJoin) ?? NaN));
    process.stdout.write(`rep ${rep + 1}: kill lag ${lags.kill.at(-1)!.toFixed(1)} ms, join lag ${lags.join.at(-1)!.toFixed(1)} ms, lookups naming cc-1 after the kill ${goneCounts.at(-1)!.afterKill}, after the sidecar dropped it ${goneCounts.at(-1)!.afterSidecar} (since killed ${(droppedAt - killedAt).toFixed(0)} ms)\n`);
  }
  running = false;
  clearInterval(poll);
  for (const kind of ['kill', 'join'] as const) {
    process.stdout.write(`${kind}: sidecar answers from the new version -> library does: p50 ${percentile(lags[kind], 50).toFixed(1)} ms, p99 ${percentile(lags[kind], 99).toFixed(1)} ms over ${lags[kind].length}\n`);
  }
  process.stdout.write(`lookups: ${lookups}; naming the killed member after the sidecar dropped it: ${goneCounts.map((g) => g.afterSidecar).join(', ')}\n`);
  sse.close();
  await ring.close();
} finally {
  await cluster.stopAll();
}
