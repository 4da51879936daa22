// `npm run example:cart [-- --updates N --carts N --concurrency N]`: three cart instances (examples/cart/instance.ts) with their sidecars on
// loopback (127.0.0.160-162), a load of cart updates sent to random instances, one instance killed with
// SIGKILL (with its sidecar) and another stopped gracefully while the load runs; then checks and prints:
// every acknowledged update is in its cart, no cart was served by two owners at one table version, and
// the load's error rate and latency. runCart() is also what test/integration/cart.test.ts runs (shorter).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Cluster, waitFor, type SidecarProcess } from '../../test/integration/harness.js';

export interface CartRunOptions {
  readonly updates: number;
  readonly carts: number;
  readonly concurrency: number;
  readonly shards: number;
  readonly log?: (line: string) => void;
}

export interface CartRunResult {
  readonly acknowledged: number;
  /** Acknowledged updates missing from their cart at the end: must be 0. */
  readonly missing: number;
  /** (table version, cart) pairs served by more than one instance: must be 0. */
  readonly doubleOwners: number;
  readonly attempts: number;
  readonly failedAttempts: number;
  /** Updates never acknowledged after every attempt. */
  readonly abandoned: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly handedOff: number;
}

class Instance {
  readonly lines: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  constructor(
    readonly name: string,
    readonly app: string,
    sidecar: SidecarProcess,
  ) {
    const [host, port] = app.split(':');
    this.child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./instance.ts', import.meta.url))], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CART_NAME: name, SIDECAR_URL: sidecar.httpBase, CART_HOST: host, CART_PORT: port },
    });
    let rest = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      const text = rest + chunk.toString();
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    this.exited = once(this.child, 'exit');
  }
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
}

const percentile = (xs: readonly number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

export async function runCart(opts: CartRunOptions): Promise<CartRunResult> {
  const log = opts.log ?? (() => {});
  const cluster = new Cluster();
  const host = (i: number): string => `127.0.0.${160 + i}`;
  const sidecars: SidecarProcess[] = [];
  const instances: Instance[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const app = `${host(i)}:${cluster.portBase + 4}`;
      sidecars.push(
        cluster.start({
          name: `cart-${i}`,
          host: host(i),
          portBase: cluster.portBase,
          seeds: i === 0 ? [] : [`${host(0)}:${cluster.portBase + 1}`],
          shards: opts.shards,
          extraArgs: ['--app-handler-url', `http://${app}/apply`],
        }),
      );
    }
    await waitFor('three owners', 90_000, async () => (await sidecars[0]!.json<{ tableMembers: number }>('/v1/table/compact')).body.tableMembers === 3);
    for (let i = 0; i < 3; i++) instances.push(new Instance(`cart-${i}`, `${host(i)}:${cluster.portBase + 4}`, sidecars[i]!));
    await waitFor('instances ready', 60_000, async () => instances.every((x) => x.lines.includes('ready')));
    log('3 instances with their sidecars are up');

    const acked = new Map<string, string>(); // uid -> cart
    const latencies: number[] = [];
    let attempts = 0;
    let failedAttempts = 0;
    let abandoned = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < opts.updates) {
        const n = next++;
        const uid = `u${n}`;
        const cart = `cart-${n % opts.carts}`;
        let done = false;
        for (let attempt = 0; attempt < 30 && !done; attempt++) {
          const live = instances.filter((x) => x.running && !x.lines.some((l) => l.startsWith('handed-off')));
          const via = live[Math.floor(Math.random() * live.length)]!;
          const start = performance.now();
          attempts++;
          try {
            const res = await fetch(`http://${via.app}/add/${encodeURIComponent(cart)}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ uid, item: `item-${n}`, attempt }),
              signal: AbortSignal.timeout(5_000),
            });
            await res.arrayBuffer();
            if (res.status === 200) {
              done = true;
              acked.set(uid, cart);
              latencies.push(performance.now() - start);
            } else failedAttempts++;
          } catch {
            failedAttempts++;
          }
          if (!done) await sleep(Math.min(1_000, 50 * 2 ** attempt));
        }
        if (!done) abandoned++;
      }
    };
    const load = Promise.all(Array.from({ length: opts.concurrency }, worker));

    await waitFor('a third of the load', 120_000, async () => next >= opts.updates / 3);
    log(`kill -9 of cart-1 and its sidecar after ${acked.size} acknowledged updates`);
    instances[1]!.child.kill('SIGKILL');
    await sidecars[1]!.stop();
    await waitFor('two thirds of the load', 120_000, async () => next >= (2 * opts.updates) / 3);
    log(`graceful stop of cart-2 and its sidecar after ${acked.size} acknowledged updates`);
    sidecars[2]!.signal('SIGTERM');
    instances[2]!.child.kill('SIGTERM');
    await load;
    await instances[2]!.exited;
    await sidecars[2]!.exited;
    const handedOff = Number(instances[2]!.lines.find((l) => l.startsWith('handed-off'))?.split(' ')[1] ?? 0);

    // Every acknowledged update is in its cart, read from the cart's owner now (cart-0).
    const byCart = new Map<string, string[]>();
    for (const [uid, cart] of acked) byCart.set(cart, [...(byCart.get(cart) ?? []), uid]);
    let missing = 0;
    for (const [cart, uids] of byCart) {
      const res = await fetch(`http://${instances[0]!.app}/cart/${encodeURIComponent(cart)}`);
      const items = ((await res.json()) as { items?: Record<string, string> }).items ?? {};
      missing += uids.filter((u) => !(u in items)).length;
    }
    // No (table version, cart) served by two instances.
    const servedBy = new Map<string, Set<string>>();
    for (const x of instances) {
      for (const line of x.lines) {
        if (!line.startsWith('served ')) continue;
        const [, version, cart] = line.split(' ');
        const key = `${version} ${cart}`;
        servedBy.set(key, (servedBy.get(key) ?? new Set()).add(x.name));
      }
    }
    const doubleOwners = [...servedBy.values()].filter((s) => s.size > 1).length;
    return {
      acknowledged: acked.size,
      missing,
      doubleOwners,
      attempts,
      failedAttempts,
      abandoned,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
      handedOff,
    };
  } finally {
    for (const x of instances) if (x.running) x.child.kill('SIGKILL');
    await cluster.stopAll();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { updates: { type: 'string', default: '3000' }, carts: { type: 'string', default: '200' }, concurrency: { type: 'string', default: '8' } } });
  const result = await runCart({
    updates: Number(values.updates),
    carts: Number(values.carts),
    concurrency: Number(values.concurrency),
    shards: 262_144,
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(
    [
      `acknowledged updates: ${result.acknowledged} (abandoned after every retry: ${result.abandoned})`,
      `acknowledged updates missing from their cart: ${result.missing}`,
      `carts served by two owners at one table version: ${result.doubleOwners}`,
      `attempts: ${result.attempts}, failed: ${result.failedAttempts} (${((100 * result.failedAttempts) / Math.max(1, result.attempts)).toFixed(2)}%)`,
      `latency of acknowledged updates: p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms, max ${result.latencyMs.max.toFixed(1)} ms`,
      `carts handed off by the graceful instance: ${result.handedOff}`,
    ].join('\n') + '\n',
  );
  process.exit(result.missing === 0 && result.doubleOwners === 0 ? 0 : 1);
}
