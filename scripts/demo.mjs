#!/usr/bin/env node
// npm run demo: five sidecars on 127.0.0.1 .. 127.0.0.5 (same ports, one loopback address each), the
// member list, a few routes, then one member killed with SIGKILL and the routes moving to the survivors.
// Everything it starts it stops, also on Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
const KEYS = ['cart-1', 'cart-42', 'user:1234567890', 'order-7', 'session-abc'];
const procs = [];

function start(i) {
  const host = `127.0.0.${i}`;
  const args = [MAIN, 'agent', '--name', `demo-${i}`, '--profile', 'local',
    '--gossip-addr', `${host}:17946`, '--grpc-addr', `${host}:17947`, '--http-addr', `${host}:17948`,
    '--ops-addr', `${host}:17949`, '--advertise-host', host, '--app-addr', `${host}:8080`];
  if (i > 1) args.push('--seeds', '127.0.0.1:17947');
  const child = spawn(process.execPath, args, { stdio: 'ignore', env: { ...process.env, SWIMRING_LOG_LEVEL: 'warn' } });
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

function stopAll() {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}
process.on('SIGINT', () => { stopAll(); process.exit(130); });

try {
  console.log('Starting five sidecars on 127.0.0.1 .. 127.0.0.5 (profile "local") ...');
  for (let i = 1; i <= 5; i++) start(i);
  for (let i = 1; i <= 5; i++) await ready(i);
  await sleep(1500);
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
  await sleep(1000);
  console.log('\n$ swimring members --http-addr 127.0.0.1:17948');
  cli('members', '--http-addr', '127.0.0.1:17948');
  console.log(`\n$ swimring route ${KEYS.join(' ')} --http-addr 127.0.0.3:17948   # keys owned by demo-5 moved; the rest stayed`);
  cli('route', ...KEYS, '--http-addr', '127.0.0.3:17948');
  console.log('\nDone; stopping the sidecars.');
} catch (err) {
  console.error(`demo failed: ${err.message}`);
  process.exitCode = 1;
} finally {
  stopAll();
}
