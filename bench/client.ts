// swimring-client's route() in the app's process: lookups per second for 16-byte keys (target: at least
// 4 M/s, 100x the HTTP route per request), and the allocation-free ownerName(). The library is the built
// package (client/dist, `npm run build:client`), connected to a stand-in sidecar in this process that serves a
// real 2^18-shard table of 10 members (built by the shipped placement code) and a watch that stays quiet.
//
//   node --import tsx bench/client.ts            5 rounds of 1,000,000 keys
//   node --import tsx bench/client.ts --quick    1 round of 200,000 keys (a sanity check, not a number)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { shipped } from './shipped.js';

const QUICK = process.argv.includes('--quick');
const { buildTable } = await shipped<typeof import('../src/placement/index.js')>('placement/index.js');
const { compactTableJson } = await shipped<typeof import('../src/http/serialize-table.js')>('http/serialize-table.js');
const client = (await import(new URL('../client/dist/client/src/index.js', import.meta.url).href)) as typeof import('../client/src/index.js');

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

function measure(what: string, lookup: (key: string) => unknown): void {
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
  process.stdout.write(`${what}: median ${(median / 1e6).toFixed(2)} M lookups/s over ${rounds} round(s) of ${count} keys (min ${(rates[0]! / 1e6).toFixed(2)}, max ${(rates.at(-1)! / 1e6).toFixed(2)})${sink < 0 ? '' : ''}\n`);
}

measure('route()', (k) => ring.route(k));
measure('ownerName()', (k) => ring.ownerName(k));
await ring.close();
server.close();
server.closeAllConnections();
