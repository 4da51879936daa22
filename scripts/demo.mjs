#!/usr/bin/env node
// npm run demo: five sidecars on 127.0.0.1 .. 127.0.0.5 (same ports, one loopback address each), the
// member list, a few routes, then one member killed with SIGKILL and the routes moving to the survivors.
// Everything it starts it stops, also on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
const KEYS = ['cart-1', 'cart-42', 'user:1234567890', 'order-7', 'session-abc', 'invoice-9', 'game-3', 'room-12'];
const procs = [];

function start(i) {
  const host = `127.0.0.${i}`;
  const args = [MAIN, 'agent', '--name', `demo-${i}`, '--profile', 'local',
    '--gossip-addr', `${host}:17946`, '--grpc-addr', `${host}:17947`, '--http-addr', `${host}:17948`,
    '--ops-addr', `${host}:17949`, '--advertise-host', host, '--app-addr', `${host}:8080`];
  if (i > 1) args.push('--seeds', '127.0.0.1:17947');
  const child = spawn(process.execPath, args, { stdio: 'ignore', env: { ...process.env, SWIMRING_LOG_LEVEL: 'warn', MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072', NODE_OPTIONS: process.env.NODE_OPTIONS ?? '--v8-pool-size=1' } });
  procs.push(child);
  return child;
}

function cli(...args) {
  const res = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  process.stdout.write(res.stdout + res.stderr);
}

async function ready(i) {
  for (let t = 0; t < 100; t++) {
    try {
      const res = await fetch(`http://127.0.0.${i}:17949/readyz`);
      if (res.ok) return;
    } catch { /* not up yet */ }
    await sleep(200);
  }
  throw new Error(`demo-${i} did not become ready`);
}

async function stateOf(i, name) {
  const res = await fetch(`http://127.0.0.${i}:17948/v1/members`);
  const body = await res.json();
  return body.members.find((m) => m.name === name)?.state;
}

async function owners(i = 1) {
  const res = await fetch(`http://127.0.0.${i}:17948/v1/route`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: KEYS }),
  });
  const body = await res.json();
  return body.routes.map((r) => r.owner?.name ?? '-');
}

/** Waits until the live sidecars (the first `n`) answer with one table version. */
async function agree(n = 5) {
  for (let t = 0; t < 150; t++) {
    const versions = new Set();
    for (let i = 1; i <= n; i++) {
      const res = await fetch(`http://127.0.0.${i}:17948/v1/table`).catch(() => null);
      versions.add(res && res.ok ? (await res.json()).version : `down-${i}`);
    }
    if (versions.size === 1) return;
    await sleep(200);
  }
  throw new Error('the sidecars did not agree on one table version in 30 s');
}

function stopAll() {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}
process.on('SIGINT', () => { stopAll(); process.exit(130); });

try {
  console.log('Starting five sidecars on 127.0.0.1 .. 127.0.0.5 (profile "local") ...');
  for (let i = 1; i <= 5; i++) start(i);
  for (let i = 1; i <= 5; i++) await ready(i);
  await agree();
  const before = await owners();
  console.log('\n$ swimring members --http-addr 127.0.0.1:17948');
  cli('members', '--http-addr', '127.0.0.1:17948');
  console.log(`\n$ swimring route ${KEYS.join(' ')} --http-addr 127.0.0.2:17948`);
  cli('route', ...KEYS, '--http-addr', '127.0.0.2:17948');

  console.log('\nKilling demo-5 with SIGKILL (no goodbye) ...');
  procs[4].kill('SIGKILL');
  const t0 = Date.now();
  for (;;) {
    if ((await stateOf(1, 'demo-5')) === 'dead') break;
    if (Date.now() - t0 > 30000) throw new Error('demo-5 was not declared dead in 30 s');
    await sleep(100);
  }
  console.log(`demo-1 declared demo-5 dead after ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
  await agree(4);
  console.log('\n$ swimring members --http-addr 127.0.0.1:17948');
  cli('members', '--http-addr', '127.0.0.1:17948');
  console.log(`\n$ swimring route ${KEYS.join(' ')} --http-addr 127.0.0.3:17948`);
  cli('route', ...KEYS, '--http-addr', '127.0.0.3:17948');
  const afterOwners = await owners(3);
  const moved = KEYS.filter((k, i) => before[i] !== afterOwners[i]);
  console.log(`\n${moved.length} of ${KEYS.length} keys changed owner: ${moved.map((k, i) => `${k} (${before[KEYS.indexOf(k)]} -> ${afterOwners[KEYS.indexOf(k)]})`).join(', ') || 'none'}.`);
  const stray = moved.filter((k) => before[KEYS.indexOf(k)] !== 'demo-5');
  console.log(stray.length === 0 ? 'Only keys demo-5 owned moved; every other key kept its owner.' : `Unexpected: ${stray.join(', ')} moved although demo-5 did not own them.`);
  if (stray.length > 0) process.exitCode = 1;
  console.log('\nDone; stopping the sidecars.');
} catch (err) {
  console.error(`demo failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  stopAll();
}
