// The short run of the structure-aware fuzzer (test/support/structured-fuzz.ts): 4 seconds (longer
// until 1,500 UDP packets and 45 gRPC calls went out, at most 40 s) of valid messages with extreme
// values from two hostile peers against 5 real members. `npm run fuzz -- --structured` runs it longer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runStructuredFuzz } from '../support/structured-fuzz.js';

/** RSS growth bound per member: 8 s runs grew members by 10-20 MB on the loaded 2-core box. */
const RSS_BOUND_MB = 64;

test('hostile peers sending extreme values: nobody exits, forged records last one refutation, memory bounded, joins work', { timeout: 300_000 }, async () => {
  const report = await runStructuredFuzz({ durationMs: 4000, minUdp: 1500, minGrpc: 45, hostiles: 2, seed: 18, log: (line) => console.error(line) });
  assert.ok(report.udpSent >= 1500 && report.grpcCalls >= 45, JSON.stringify(report));
  assert.deepEqual(report.exited, []);
  assert.deepEqual(report.forgedLeft, [], `settled after ${report.settledMs} ms`);
  for (const [name, mb] of Object.entries(report.rssGrowthMb)) assert.ok(mb < RSS_BOUND_MB, `${name} grew by ${mb} MB`);
  assert.equal(report.joined, true);
});
