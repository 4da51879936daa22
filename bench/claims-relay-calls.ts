// What relayed announcements (docs/ownership.md "Relays") save, counted rather than timed: N claim
// services in memory on one manual clock (the agent's ClaimService, announcer, per-peer queues and
// relays; calls answered after a fixed delay each way instead of over gRPC), one member that never
// answers (its calls fail at the call timeout, and it is never suspected: the worst case), claims at
// --rate per second on the members in turn. For each relay group size (0: every peer called
// directly) it reports the calls the cluster made per claim, records per call, and the time from a
// claim to the last healthy member storing it on the manual clock (delays of the model, not CPU).
// A call's CPU times the calls per claim is the cluster's CPU per claim (bench/claims-call-cost.ts
// measures a call's).
// A loaded machine's uneven round trips: with --slow-share F, a hop takes --slow-ms instead of --call-ms
// with probability F (seeded, --seed: the same draws for every build measured).
// Run: node --import tsx bench/claims-relay-calls.ts [--sizes 10,30,50] [--rate 50] [--seconds 20]
//      [--call-ms 2] [--relay-group-sizes 0,16] [--relay-window-ms 100] [--call-cpu-ms 1.3]
//      [--slow-share 0] [--slow-ms 1500] [--seed 1]
import { parseArgs } from 'node:util';
import { DEFAULT_CLAIM_CONFIG, FOREIGN_EXPIRY_GRACE_MS } from '../src/ownership/config.js';
import { ClaimService, type AnnounceAck, type ClaimCallPort, type Peer } from '../src/ownership/service.js';
import { ManualClock } from '../src/shell/memory-ports.js';
import { mulberry32 } from './mulberry32.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,30,50' },
    rate: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '20' },
    'call-ms': { type: 'string', default: '2' },
    'relay-group-sizes': { type: 'string', default: `0,${DEFAULT_CLAIM_CONFIG.relayGroupSize}` },
    'call-cpu-ms': { type: 'string', default: '1.3' },
    'relay-window-ms': { type: 'string', default: String(DEFAULT_CLAIM_CONFIG.relayWindowMs) },
    'slow-share': { type: 'string', default: '0' },
    'slow-ms': { type: 'string', default: '1500' },
    seed: { type: 'string', default: '1' },
  },
});


function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function run(size: number, groupSize: number): Promise<void> {
  const clock = new ManualClock(0);
  const random = mulberry32(Number(values.seed));
  const slowShare = Number(values['slow-share']);
  const hopMs = (): number => (slowShare > 0 && random() < slowShare ? Number(values['slow-ms']) : Number(values['call-ms']));
  const callMs = Number(values['call-ms']);
  const rate = Number(values.rate);
  const total = Math.round(rate * Number(values.seconds));
  const names = [...Array.from({ length: size }, (_, i) => `m${i}`), 'hung'];
  const services = new Map<string, ClaimService>();
  const stats = { calls: 0, records: 0 };
  /** Calls each member made or answered: a relay does both for its whole group. */
  const callsOf = new Map<string, number>();
  const count = (name: string): void => void callsOf.set(name, (callsOf.get(name) ?? 0) + 1);
  /** claim id -> when it was made, healthy members holding it, when the last one stored it */
  const seen = new Map<string, { at: number; count: number; doneAt: number | null }>();
  const port = (from: string): ClaimCallPort => ({
    call(kind, to, _self, records, timeoutMs, sentAtMs, answer, relay) {
      stats.calls++;
      count(from);
      if (to.name !== 'hung') count(to.name);
      stats.records += records.length + (relay?.relayed?.length ?? 0);
      const callee = services.get(to.name);
      if (to.name === 'hung' || callee === undefined) {
        clock.at(clock.now() + timeoutMs, () => answer(new Error('deadline exceeded')));
        return;
      }
      clock.at(clock.now() + hopMs(), () => {
        const winners = kind === 'announce' ? callee.receiveClaims(records, sentAtMs).winners : (callee.receiveReleases(records, sentAtMs), []);
        if (relay !== undefined) callee.receiveRelay(from, relay.relayTo ?? [], records, relay.relayed ?? []);
        const ack: AnnounceAck = { accepted: winners.length === 0, winners, relays: callee.announcer.relays.enabled() };
        clock.at(clock.now() + hopMs(), () => answer(ack));
      });
    },
  });
  const options = { ...DEFAULT_CLAIM_CONFIG, defaultTtlMs: null, foreignExpiryGraceMs: FOREIGN_EXPIRY_GRACE_MS, rpcTimeoutMs: 2000, relayGroupSize: groupSize, relayWindowMs: Number(values['relay-window-ms']) };
  for (const name of names.slice(0, size)) {
    const service = new ClaimService({
      self: () => ({ name, lifeId: `L${name}`, incarnation: 1, serving: true }),
      peers: (): Peer[] => names.filter((n) => n !== name).map((n) => ({ name: n, grpcAddr: `${n}:1` })),
      memberStatus: () => 'live',
      transport: port(name),
      timers: clock,
      options,
    });
    service.store.onChange((change) => {
      const s = change.kind === 'set' && !change.record.released && change.previous === undefined ? seen.get(change.record.id) : undefined;
      if (s === undefined) return;
      s.count++;
      if (s.count === size && s.doneAt === null) s.doneAt = clock.now();
    });
    services.set(name, service);
  }
  const members = [...services.values()];
  // The first claim of each member goes to every peer directly (whether they relay is learnt from
  // the acks): calls per claim are also given from the third round of claims on.
  const warm = 2 * size;
  let callsWhenWarm = 0;
  for (let n = 0; n < total; n++) {
    clock.at((n * 1000) / rate, () => {
      if (n === warm) callsWhenWarm = stats.calls;
      const id = `cart-${n}`;
      seen.set(id, { at: clock.now(), count: 0, doneAt: null });
      members[n % size]!.claim([id]);
    });
  }
  await clock.advance((total * 1000) / rate + 30_000);
  const latencies = [...seen.values()].filter((s) => s.doneAt !== null).map((s) => s.doneAt! - s.at).sort((a, b) => a - b);
  const sum = (f: (c: ClaimService['counters']) => number): number => members.reduce((t, m) => t + f(m.counters), 0);
  const perClaim = (stats.calls - callsWhenWarm) / (total - warm);
  console.log(
    `members ${size} (+1 hung), ${total} claims at ${rate}/s, relay group size ${groupSize}, window ${values['relay-window-ms']} ms: ` +
      `${(stats.calls / total).toFixed(2)} calls per claim, ${perClaim.toFixed(2)} from the third round on ` +
      `(${size} peers to reach), ${(stats.records / stats.calls).toFixed(1)} records per call; relay batches ${sum((c) => c.relayBatches)}, ` +
      `fallbacks ${sum((c) => c.relayFallbacks)}; claim -> every healthy member (model time, ${callMs} ms per hop${slowShare > 0 ? `, ${values['slow-ms']} ms with probability ${slowShare}` : ''}) p50 ${percentile(latencies, 50)} ms, ` +
      `p99 ${percentile(latencies, 99)} ms, never ${total - latencies.length}; at ${values['call-cpu-ms']} ms CPU per call: ` +
      `${(perClaim * Number(values['call-cpu-ms'])).toFixed(1)} ms CPU per claim, cluster-wide, from the third round on`,
  );
  const perMember = names.slice(0, size).map((n) => callsOf.get(n) ?? 0).sort((a, b) => a - b);
  const seconds = (total * 1000) / rate / 1000;
  console.log(
    `  calls made or answered per member per second: median ${(percentile(perMember, 50) / seconds).toFixed(1)}, ` +
      `busiest ${((perMember[perMember.length - 1] ?? NaN) / seconds).toFixed(1)} (half a call's CPU each side: ` +
      `${((percentile(perMember, 50) / seconds) * Number(values['call-cpu-ms']) / 2 / 10).toFixed(1)} % and ` +
      `${(((perMember[perMember.length - 1] ?? NaN) / seconds) * Number(values['call-cpu-ms']) / 2 / 10).toFixed(1)} % of a core)`,
  );
  for (const m of members) m.close();
}

for (const size of values.sizes.split(',').map(Number)) {
  for (const group of values['relay-group-sizes'].split(',').map(Number)) await run(size, group);
}
