// Seed discovery against a real DNS server on loopback (dns2), the way a Kubernetes headless Service
// serves it: one name, several A and AAAA records, records coming and going between join retries.
// First SeedResolver on its own, then two real agents (dist/main.js) joining through the name.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dns2, { type DnsServer, type Packet } from 'dns2';
import { SeedResolver } from '../../src/runtime/discovery.js';
import { Cluster, waitFor } from '../integration/harness.js';

const TYPE_A = 1;
const TYPE_AAAA = 28;
const RCODE_NXDOMAIN = 3;

interface Records {
  a: string[];
  aaaa: string[];
}

/** A DNS server with a zone the test edits between queries. TTL 0 so no resolver keeps old answers. */
class TestDns {
  readonly zone = new Map<string, Records>();
  /** Questions asked, per lower-cased name. */
  readonly asked = new Map<string, number>();
  private readonly server: DnsServer;
  port = 0;

  constructor() {
    this.server = dns2.createServer({ udp: true, handle: (request, send) => void send(this.answer(request)) });
  }

  async start(): Promise<void> {
    const addresses = await this.server.listen({ udp: { port: 0, address: '127.0.0.1' } });
    this.port = addresses.udp?.port ?? 0;
    assert.ok(this.port > 0, 'the DNS server has a port');
  }

  close(): Promise<void> {
    return this.server.close();
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  set(name: string, records: Partial<Records>): void {
    this.zone.set(name.toLowerCase(), { a: records.a ?? [], aaaa: records.aaaa ?? [] });
  }

  queries(name: string): number {
    return this.asked.get(name.toLowerCase()) ?? 0;
  }

  private answer(request: Packet): Packet {
    const response = dns2.Packet.createResponseFromRequest(request);
    for (const q of request.questions) {
      const name = q.name.toLowerCase();
      this.asked.set(name, (this.asked.get(name) ?? 0) + 1);
      const records = this.zone.get(name);
      if (!records) {
        response.header.rcode = RCODE_NXDOMAIN;
        continue;
      }
      // A known name without records of the asked type is NOERROR with no answers (NODATA).
      const list = q.type === TYPE_A ? records.a : q.type === TYPE_AAAA ? records.aaaa : [];
      for (const address of list) response.answers.push({ name: q.name, type: q.type, class: 1, ttl: 0, address } as Packet['answers'][number]);
    }
    return response;
  }
}

describe('SeedResolver against a DNS server', () => {
  const dns = new TestDns();
  let resolver: SeedResolver;
  before(async () => {
    await dns.start();
    resolver = new SeedResolver({ defaultPort: 7947, dnsServers: [dns.address], timeoutMs: 500 });
  });
  after(() => dns.close());

  test('every A and AAAA record of a name is a seed, at the default port, IPv6 in brackets', async () => {
    dns.set('peers.svc.test', { a: ['10.0.0.3', '10.0.0.1', '10.0.0.2'], aaaa: ['fd00::2', 'fd00::1'] });
    const r = await resolver.resolve(['peers.svc.test']);
    assert.deepEqual(r.addresses, ['10.0.0.1:7947', '10.0.0.2:7947', '10.0.0.3:7947', '[fd00::1]:7947', '[fd00::2]:7947']);
    assert.deepEqual(r.problems, []);
  });

  test('a port given with the name applies to all of its records', async () => {
    dns.set('ported.svc.test', { a: ['10.0.1.1'], aaaa: ['fd00::11'] });
    const r = await resolver.resolve(['ported.svc.test:9000']);
    assert.deepEqual(r.addresses, ['10.0.1.1:9000', '[fd00::11]:9000']);
  });

  test('names with only A or only AAAA records', async () => {
    dns.set('v4only.svc.test', { a: ['10.0.2.1'] });
    dns.set('v6only.svc.test', { aaaa: ['fd00::21'] });
    assert.deepEqual((await resolver.resolve(['v4only.svc.test'])).addresses, ['10.0.2.1:7947']);
    assert.deepEqual((await resolver.resolve(['v6only.svc.test'])).addresses, ['[fd00::21]:7947']);
  });

  test('records appearing and disappearing between resolutions are seen: each call asks again', async () => {
    const name = 'churn.svc.test';
    dns.set(name, {});
    const asked0 = dns.queries(name);
    const empty = await resolver.resolve([name]);
    assert.deepEqual(empty.addresses, []);
    assert.match(empty.problems.join('\n'), /churn\.svc\.test: no A or AAAA records/);

    dns.set(name, { a: ['10.0.3.1'] });
    assert.deepEqual((await resolver.resolve([name])).addresses, ['10.0.3.1:7947']);

    dns.set(name, { a: ['10.0.3.1', '10.0.3.2'], aaaa: ['fd00::31'] });
    assert.deepEqual((await resolver.resolve([name])).addresses, ['10.0.3.1:7947', '10.0.3.2:7947', '[fd00::31]:7947']);

    // A pod goes away and another takes a new address.
    dns.set(name, { a: ['10.0.3.2', '10.0.3.9'] });
    assert.deepEqual((await resolver.resolve([name])).addresses, ['10.0.3.2:7947', '10.0.3.9:7947']);

    dns.set(name, {});
    assert.deepEqual((await resolver.resolve([name])).addresses, []);
    // Five resolutions, A and AAAA each: nothing was answered from a cache.
    assert.equal(dns.queries(name) - asked0, 10);
  });

  test('several names and static seeds together: merged, deduplicated, sorted', async () => {
    dns.set('one.svc.test', { a: ['10.0.4.1', '10.0.4.2'] });
    dns.set('two.svc.test', { a: ['10.0.4.2', '10.0.4.3'], aaaa: ['fd00::41'] });
    const r = await resolver.resolve(['two.svc.test', 'one.svc.test', '10.0.4.1:7947', '10.0.4.1:7000']);
    assert.deepEqual(r.addresses, ['10.0.4.1:7000', '10.0.4.1:7947', '10.0.4.2:7947', '10.0.4.3:7947', '[fd00::41]:7947']);
    assert.deepEqual(r.problems, []);
  });

  test('a name the server does not know is a problem, not a throw, and the other seeds still count', async () => {
    const r = await resolver.resolve(['missing.svc.test', 'one.svc.test']);
    assert.deepEqual(r.addresses, ['10.0.4.1:7947', '10.0.4.2:7947']);
    assert.equal(r.problems.length, 1);
    assert.match(r.problems[0] ?? '', /missing\.svc\.test/);
  });

  test('with DNS servers pinned, names only the system resolver knows are not looked up elsewhere', async () => {
    const r = await resolver.resolve(['localhost']);
    assert.deepEqual(r.addresses, []);
    assert.equal(dns.queries('localhost') > 0, true, 'the pinned server was asked');
  });
});

describe('two agents joining through a DNS name (dist/main.js)', () => {
  const dns = new TestDns();
  const cluster = new Cluster();
  const NAME = 'peers.swimring.test';
  before(() => dns.start());
  after(async () => {
    await cluster.stopAll();
    await dns.close();
  });

  test('the second agent retries while the name points nowhere, then joins once the first agent\'s record appears', async (t) => {
    // No record yet for the first agent; the name has one pointing where nobody listens.
    dns.set(NAME, { a: ['127.0.0.59'], aaaa: ['::1'] });
    // A small shard count keeps table rebuilds short on a busy test machine (the default's rebuild can
    // block the event loop past the local profile's probe timeout).
    const shards = ['--shards', '4096'];
    const first = cluster.start(cluster.spec(0, { host: '127.0.0.51', seeds: [], extraArgs: shards }));
    const second = cluster.start(
      cluster.spec(1, {
        host: '127.0.0.52',
        // A bare name: its records at this member's gRPC port, which both members share.
        seeds: [NAME],
        extraArgs: [...shards, '--join-retry-initial-ms', '100', '--join-retry-max-ms', '300'],
        env: { SWIMRING_DNS_SERVERS: dns.address },
      }),
    );
    t.after(() => cluster.stopAll());
    try {
      await waitFor('the first agent to be ready', 20_000, async () => (await first.json('/readyz')).status === 200);
      // Several join rounds, each resolving the name again, none reaching anyone.
      const before = dns.queries(NAME);
      await waitFor('three more join rounds', 20_000, async () => dns.queries(NAME) >= before + 6);
      const waiting = await second.json<{ ok: boolean; reasons: string[] }>('/readyz');
      assert.equal(waiting.status, 503);
      assert.ok(waiting.body.reasons.some((r) => r.startsWith('not joined')), JSON.stringify(waiting.body));

      // The dead address disappears and the first agent's appears, as when its pod is scheduled.
      dns.set(NAME, { a: ['127.0.0.51'] });
      const names = async (p: typeof first): Promise<string[]> =>
        (await p.json<{ members: { name: string; state: string }[] }>('/v1/members')).body.members
          .filter((m) => m.state === 'alive')
          .map((m) => m.name)
          .sort();
      await waitFor('both agents to see each other alive', 30_000, async () => {
        const [a, b] = await Promise.all([names(first), names(second)]);
        return a.join() === 'node-0,node-1' && b.join() === 'node-0,node-1';
      });
      await waitFor('the second agent to be ready', 20_000, async () => (await second.json('/readyz')).status === 200);
      assert.ok(second.logs.some((l) => l.includes('"joined the cluster"')), 'the join is logged');

      // Once joined, membership no longer depends on DNS: the record going away changes nothing.
      dns.set(NAME, {});
      assert.deepEqual(await names(second), ['node-0', 'node-1']);
    } catch (err) {
      throw new Error(`${String(err)}\n${cluster.dumpLogs()}`);
    }
  });
});
