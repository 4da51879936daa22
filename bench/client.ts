// swimring-client's route() in the app's process: lookups per second for 16-byte keys (target: at least
// 4 M/s, 100x the HTTP route per request), and the allocation-free ownerName(). The library is the built
// package (client/dist, `npm run build:client`), connected to a stand-in sidecar in this process that serves a
// real 2^18-shard table of 10 members (built by the shipped placement code) and a watch that stays quiet.
//
//   node --import tsx bench/client.ts            5 rounds of 1,000,000 keys
//   node --import tsx bench/client.ts --quick    1 round of 200,000 keys (a sanity check, not a number)
//   node --import tsx bench/client.ts --against /tmp/client-base --reps 8
//       compares two builds of the package (a directory holding package.json and dist/, e.g. a copy of
//       client/ before a change): each rep runs both, each in a fresh process, in alternating order, and
//       the ratio this build / the other is taken per rep, so a machine busy with other work moves both
//       sides of a ratio alike.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { shipped } from './shipped.js';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const JSON_OUT = argv.includes('--json');
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const THIS_BUILD = fileURLToPath(new URL('../client/', import.meta.url));

interface Rates {
  readonly route: number;
  readonly ownerName: number;
}

const against = option('--against');
if (against !== undefined) await compare(against, Number(option('--reps') ?? 6));
else {
  const rates = await measureBuild(option('--lib') ?? THIS_BUILD);
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(rates)}\n`);
}

async function measureBuild(packageDir: string): Promise<Rates> {
  const { buildTable } = await shipped<typeof import('../src/placement/index.js')>('placement/index.js');
  const { compactTableJson } = await shipped<typeof import('../src/http/serialize-table.js')>('http/serialize-table.js');
  const entry = pathToFileURL(resolve(packageDir, 'dist/client/src/index.js'));
  const client = (await import(entry.href)) as typeof import('../client/src/index.js');

  const names = Array.from({ length: 10 }, (_, i) => `member-${i}`);
  const table = buildTable(names, { shards: 262_144, replicas: 2 });
  const owners = names.map((name, i) => ({ name, addresses: { gossip: `10.0.0.${i}:7946`, grpc: `10.0.0.${i}:7947`, app: `10.0.0.${i}:8080` }, serving: true }));
  const tableText = compactTableJson({
    version: table.version,
    shards: table.shards,
    replicas: table.replicaCount,
    members: table.members.map((n) => owners.find((o) => o.name === n)!),
    tableMembers: table.members.length,
    ownerIndex: table.ownerIndex,
    replicaIndex: table.replicaIndex,
    claims: [],
  });
  const members = owners.map((o, i) => ({ ...o, state: 'alive', incarnation: 1, tags: {}, self: i === 0 }));

  const server = createServer((req, res) => {
    if (req.url === '/v1/members') res.end(JSON.stringify({ version: table.version, members }));
    else if (req.url === '/v1/table/compact') res.end(tableText);
    else if (req.url?.startsWith('/v1/watch')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: snapshot\ndata: ${JSON.stringify({ type: 'snapshot', version: table.version, members })}\n\n`);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const ring = await client.connect({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });

  const count = QUICK ? 200_000 : 1_000_000;
  const rounds = QUICK ? 1 : 5;
  // 16 bytes each: "cart-" and 11 digits.
  const keys = Array.from({ length: count }, (_, i) => `cart-${String(i * 7919).padStart(11, '0')}`);
  if (keys.some((k) => k.length !== 16)) throw new Error('bench: keys must be 16 bytes');

  function measure(what: string, lookup: (key: string) => unknown): number {
    let sink = 0;
    for (let i = 0; i < Math.min(count, 100_000); i++) if (lookup(keys[i]!) !== null) sink++; // warm-up
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < count; i++) if (lookup(keys[i]!) !== null) sink++;
      const ns = Number(process.hrtime.bigint() - start);
      rates.push(count / (ns / 1e9));
    }
    rates.sort((a, b) => a - b);
    const median = rates[Math.floor(rates.length / 2)]!;
    if (!JSON_OUT) {
      process.stdout.write(`${what}: median ${(median / 1e6).toFixed(2)} M lookups/s over ${rounds} round(s) of ${count} keys (min ${(rates[0]! / 1e6).toFixed(2)}, max ${(rates.at(-1)! / 1e6).toFixed(2)})${sink < 0 ? '' : ''}\n`);
    }
    return median;
  }

  const rates = { route: measure('route()', (k) => ring.route(k)), ownerName: measure('ownerName()', (k) => ring.ownerName(k)) };
  await ring.close();
  server.close();
  server.closeAllConnections();
  return rates;
}

/** Runs this build and `other` alternately in fresh processes, `reps` times each; prints medians and ratios. */
async function compare(other: string, reps: number): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  const run = (lib: string): Rates => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', script, '--json', '--lib', lib, ...(QUICK ? ['--quick'] : [])], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').at(-1)!) as Rates;
  };
  const mine: Rates[] = [];
  const theirs: Rates[] = [];
  for (let rep = 0; rep < reps; rep++) {
    // Alternate which goes first, so a drift in the machine's load does not favour one side.
    if (rep % 2 === 0) {
      theirs.push(run(other));
      mine.push(run(THIS_BUILD));
    } else {
      mine.push(run(THIS_BUILD));
      theirs.push(run(other));
    }
    const m = mine.at(-1)!;
    const t = theirs.at(-1)!;
    process.stdout.write(
      `rep ${rep + 1}: route() ${(t.route / 1e6).toFixed(2)} -> ${(m.route / 1e6).toFixed(2)} M/s (x${(m.route / t.route).toFixed(2)}), ` +
        `ownerName() ${(t.ownerName / 1e6).toFixed(2)} -> ${(m.ownerName / 1e6).toFixed(2)} M/s (x${(m.ownerName / t.ownerName).toFixed(2)})\n`,
    );
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const what of ['route', 'ownerName'] as const) {
    const ratios = mine.map((m, i) => m[what] / theirs[i]![what]);
    process.stdout.write(
      `${what}(): ${other} median ${(median(theirs.map((r) => r[what])) / 1e6).toFixed(2)} M/s, this build ${(median(mine.map((r) => r[what])) / 1e6).toFixed(2)} M/s; ` +
        `ratio per rep median x${median(ratios).toFixed(2)} (min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)})\n`,
    );
  }
}
