// Floods of the control plane against real sidecar processes on 127.0.0.71-74 (local profile, a
// label, no keyring): big requests with the wrong label or without label metadata do not grow the
// member's memory past a bound, a wrong-label flood leaves legitimate joiners their Negotiates, and a
// seed answering RESOURCE_EXHAUSTED never makes a joiner with --bootstrap form a cluster alone.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { randomPortBase, SidecarProcess, waitFor } from './harness.js';
import { credentialMetadata } from '../../src/grpc/auth-gate.js';
import { ControlPlaneClient } from '../../src/grpc/client.js';
import { limitsForClusterSize } from '../../src/grpc/limits.js';
import { ControlPlaneError, startControlPlaneServer } from '../../src/grpc/server.js';
import { encodeRequest, rawCall } from '../grpc/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'swimring-flood-'));
const all: SidecarProcess[] = [];
after(async () => {
  await Promise.all(all.map((n) => n.stop()));
  rmSync(dir, { recursive: true, force: true });
});

function start(name: string, host: string, portBase: number, seeds: readonly string[], extra: readonly string[] = []): SidecarProcess {
  const args = ['--admin-token-file', join(dir, `${name}.token`), '--drain-ms', '0', '--label', 'blue', ...extra];
  const p = new SidecarProcess({ name, host, portBase, seeds, extraArgs: args, shards: 1024 });
  all.push(p);
  return p;
}

function rssBytes(p: SidecarProcess): number {
  const status = readFileSync(`/proc/${p.child.pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  assert.ok(kb, 'VmRSS readable');
  return Number(kb) * 1024;
}

/** A Negotiate of about `bytes` bytes: a header with `label`, then one unknown length-delimited field. */
function bigNegotiate(label: string, bytes: number): Buffer {
  const head = encodeRequest('Negotiate', { header: { label, sender: 'flooder', protocolVersion: 1 }, members: [] } as never);
  const filler = Buffer.alloc(bytes, 0x61);
  // Field 15, wire type 2 (length-delimited), then the length as a varint.
  const length: number[] = [];
  for (let n = filler.length; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      length.push(n);
      break;
    }
    length.push((n % 128) | 0x80);
  }
  return Buffer.concat([head, Buffer.from([(15 << 3) | 2, ...length]), filler]);
}

const MiB = 1024 * 1024;

describe('control-plane floods', { timeout: 300_000 }, () => {
  const base = randomPortBase();
  let member: SidecarProcess;

  test('a labelled member starts alone', async () => {
    member = start('fl-0', '127.0.0.71', base, []);
    await waitFor('the member answers', 60_000, async () => (await member.json('/readyz')).status === 200);
  });

  test('20 concurrent Negotiates at the size limit with the wrong label or no label metadata: memory grows by less than 96 MiB', async () => {
    // Let start-up allocation settle, then take the baseline.
    await new Promise((r) => setTimeout(r, 2000));
    const baseline = rssBytes(member);
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, rssBytes(member));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // As big as the member accepts at the default --max-cluster-size (bigger is refused unread).
    const size = limitsForClusterSize(4096).maxMessageBytes - 1024;
    const wrongLabel = bigNegotiate('red', size);
    const noLabel = bigNegotiate('', size);
    const calls = [
      ...Array.from({ length: 10 }, () => rawCall(member.grpcAddr, 'Negotiate', wrongLabel, {}, credentialMetadata('red', null))),
      ...Array.from({ length: 10 }, () => rawCall(member.grpcAddr, 'Negotiate', noLabel)),
    ];
    const replies = await Promise.all(calls);
    await new Promise((r) => setTimeout(r, 500));
    sampling = false;
    await sampler;
    for (const r of replies) assert.ok(r.err !== null, 'every flood call refused');
    const codes = replies.map((r) => grpc.status[r.err?.code ?? 0]);
    assert.ok(codes.every((c) => c === 'PERMISSION_DENIED' || c === 'RESOURCE_EXHAUSTED'), codes.join());
    const growth = peak - baseline;
    assert.ok(growth < 96 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB (baseline ${(baseline / MiB).toFixed(1)} MiB)`);
    assert.ok(member.running);
    assert.equal((await member.json('/livez')).status, 200);
  });

  test('legitimate Negotiates all succeed during a wrong-label flood with random sender names', async () => {
    const flooders = Array.from({ length: 8 }, () => new grpc.Client(member.grpcAddr, grpc.credentials.createInsecure()));
    const legit = new ControlPlaneClient({ label: 'blue', sender: 'joiner' });
    let stop = false;
    let flooded = 0;
    const flood = async (client: grpc.Client, lane: number): Promise<void> => {
      for (let i = 0; !stop && i < 400; i++) {
        const sender = `flood-${lane}-${i}`;
        const body = encodeRequest('Negotiate', { header: { label: 'red', sender, protocolVersion: 1 }, members: [] } as never);
        // Half announce the wrong label as metadata, half only in the body (as an earlier version would).
        const metadata = i % 2 === 0 ? credentialMetadata('red', null) : new grpc.Metadata();
        await new Promise<void>((resolve) =>
          client.makeUnaryRequest(`/swimring.v1.ControlPlane/Negotiate`, (b: Buffer) => b, (b: Buffer) => b, body, metadata, { deadline: Date.now() + 10_000 }, () => {
            flooded++;
            resolve();
          }),
        );
      }
    };
    const floods = flooders.flatMap((c, lane) => [flood(c, lane * 4), flood(c, lane * 4 + 1), flood(c, lane * 4 + 2), flood(c, lane * 4 + 3)]);
    try {
      await waitFor('the flood is under way', 10_000, async () => flooded > 300);
      const outcomes: string[] = [];
      for (let k = 0; k < 10; k++) {
        const joiner = new ControlPlaneClient({ label: 'blue', sender: `joiner-${k}` });
        outcomes.push(await joiner.negotiate(member.grpcAddr, [], true, 5000).then(() => 'ok', (err: Error) => err.message));
        joiner.close();
      }
      assert.deepEqual(outcomes.filter((o) => o !== 'ok'), [], `${flooded} flood calls sent`);
    } finally {
      stop = true;
      await Promise.all(floods);
      for (const c of flooders) c.close();
      legit.close();
    }
    assert.ok(flooded > 300);
  });
});

describe('a busy seed', { timeout: 120_000 }, () => {
  test('a joiner with --bootstrap whose seed answers RESOURCE_EXHAUSTED keeps trying and never forms a cluster alone', async () => {
    let refused = 0;
    const seed = await startControlPlaneServer({
      bind: '127.0.0.73:0',
      handlers: {
        negotiate: () => {
          refused++;
          throw new ControlPlaneError(grpc.status.RESOURCE_EXHAUSTED, 'too many Negotiates (global limit): retry after 1000 ms');
        },
        closing: () => {},
        ping: () => ({ name: 'busy-seed', members: 1, healthScore: 0, tableVersion: '' }),
      },
    });
    try {
      const joiner = start('busy-joiner', '127.0.0.74', randomPortBase(), [`127.0.0.73:${seed.port}`], ['--bootstrap', '--join-timeout-ms', '1000', '--join-retry-initial-ms', '200', '--join-retry-max-ms', '500']);
      await waitFor('the joiner has been refused a few times, well past its join timeout', 30_000, async () => refused >= 5);
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(joiner.running);
      assert.equal((await joiner.json('/readyz')).status, 503, 'not ready: it has not joined');
      assert.ok(!joiner.logs.some((l) => l.includes('bootstrapping a new cluster alone')), 'never bootstrapped alone');
      assert.ok(joiner.logs.some((l) => l.includes('a seed answered busy')));
      await joiner.stop();
    } finally {
      await seed.close();
    }
  });
});
