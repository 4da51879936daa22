// The build steps' clock: the calling thread's CPU time, not the whole process's, so CPU burnt by other
// threads (V8's collectors, a worker) does not count against the event loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { parseSchedstat, threadCpuClock } from '../../src/runtime/thread-cpu.js';

test('schedstat: the first field is the run time in ns; anything else is refused', () => {
  assert.equal(parseSchedstat('123456789 2000 7\n'), 123.456789);
  assert.equal(parseSchedstat('0 0 0'), 0);
  for (const bad of ['', '\n', 'x 1 2', '-5 1 2', '1.5 2 3', '99999999999999999999 1 1']) assert.equal(parseSchedstat(bad), null, JSON.stringify(bad));
});

test('on Linux the clock counts the calling thread alone: a busy worker does not move it while this thread sleeps', async (t) => {
  const clock = threadCpuClock();
  if (process.platform !== 'linux') {
    t.skip('per-thread CPU time is read from /proc here');
    return;
  }
  assert.equal(clock.counts, 'thread');
  // Once told to go, the worker spins until the process has used 200 ms more CPU, then wakes this
  // thread, which waits blocked (no CPU) meanwhile. flag[1]: go; flag[0]: done.
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(
    `const { workerData } = require('node:worker_threads');
     const flag = new Int32Array(workerData);
     Atomics.wait(flag, 1, 0, 60000);
     const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
     const start = cpu();
     while (cpu() - start < 200) {}
     Atomics.store(flag, 0, 1);
     Atomics.notify(flag, 0);`,
    { eval: true, workerData: flag.buffer },
  );
  const processBefore = process.cpuUsage();
  const threadBefore = clock.now();
  Atomics.store(flag, 1, 1);
  Atomics.notify(flag, 1);
  // Bounded: the worker gives up its loop after 200 ms of CPU; 60 s covers a very loaded machine.
  const woke = Atomics.wait(flag, 0, 0, 60_000);
  const threadSpent = clock.now() - threadBefore;
  const processUsage = process.cpuUsage(processBefore);
  await worker.terminate();
  assert.notEqual(woke, 'timed-out');
  const processSpent = (processUsage.user + processUsage.system) / 1000;
  assert.ok(processSpent >= 190, `the process used ${processSpent} ms`);
  assert.ok(threadSpent < processSpent / 4, `this thread used ${threadSpent} ms of the process's ${processSpent} ms`);
});
