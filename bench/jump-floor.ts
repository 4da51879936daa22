// How close the JS jump hash (src/placement/jump.ts, built) is to the same algorithm compiled natively, in
// the same run: jump alone at 2^16, 2^18 and 2^20 buckets, CPU time per call, medians of 5 alternating
// rounds; natively both the loop the addon runs (lookup-core.h: fused where the CPU has FMA) and the paper's. The paper's loop is a chain of dependent double operations (about ln(buckets) + 1 rounds), so
// native code is a floor no JS rewrite can pass; bench/README.md uses it to read the lookup numbers.
// Needs a C compiler (`cc`); the build goes to a temporary directory.
//   node --import tsx bench/jump-floor.ts [--count N]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shipped } from './shipped.js';
import { median } from './cluster/stats.js';

const { jumpUnchecked } = await shipped<typeof import('../src/placement/jump.js')>('placement/jump.js');

const countAt = process.argv.indexOf('--count');
const COUNT = countAt >= 0 ? Number(process.argv[countAt + 1]) : 5_000_000;
const ROUNDS = 5;
const BUCKETS = [1 << 16, 1 << 18, 1 << 20];

const dir = mkdtempSync(join(tmpdir(), 'swimring-jump-'));
const binary = join(dir, 'jump');
try {
  execFileSync('cc', ['-O2', '-o', binary, fileURLToPath(new URL('./native/jump.c', import.meta.url))], { stdio: 'inherit' });

  /** Keys from a 32-bit LCG pair: a different stream from the C side's, the same distribution (uniform). */
  function jsNsPerJump(buckets: number): number {
    let a = 12345;
    let b = 67890;
    let checksum = 0;
    const started = process.cpuUsage();
    for (let i = 0; i < COUNT; i++) {
      a = (Math.imul(a, 1664525) + 1013904223) | 0;
      b = (Math.imul(b, 22695477) + 1) | 0;
      checksum = (checksum + jumpUnchecked(a >>> 0, b >>> 0, buckets)) | 0;
    }
    const used = process.cpuUsage(started);
    if (checksum === 0.5) console.log('unreachable'); // keeps the loop's result alive
    return ((used.user + used.system) * 1000) / COUNT;
  }

  /** The addon's loop ("fused" where the CPU has FMA) or the paper's ("reference"), in C. */
  function nativeJump(buckets: number, reference: boolean): { loop: string; ns: number } {
    const out = execFileSync(binary, [String(buckets), String(COUNT), ...(reference ? ['reference'] : [])], { encoding: 'utf8' });
    const parsed = JSON.parse(out) as { loop: string; ns_per_jump: number };
    return { loop: parsed.loop, ns: parsed.ns_per_jump };
  }

  jsNsPerJump(1 << 18); // warm-up: optimized code before the first measured round
  for (const buckets of BUCKETS) {
    const js: number[] = [];
    const addon: number[] = [];
    const paper: number[] = [];
    let addonLoop = '';
    for (let r = 0; r < ROUNDS; r++) {
      js.push(jsNsPerJump(buckets));
      const ran = nativeJump(buckets, false);
      addonLoop = ran.loop;
      addon.push(ran.ns);
      paper.push(nativeJump(buckets, true).ns);
    }
    const jsNs = median(js);
    const addonNs = median(addon);
    const paperNs = median(paper);
    console.log(
      `jump at 2^${Math.log2(buckets)} buckets: JS ${jsNs.toFixed(1)} ns; native (cc -O2): the addon's loop (${addonLoop}) ${addonNs.toFixed(1)} ns, the paper's loop ${paperNs.toFixed(1)} ns per call; JS/addon ${(jsNs / addonNs).toFixed(2)}, paper/addon ${(paperNs / addonNs).toFixed(2)} (medians of ${ROUNDS}, ${COUNT.toLocaleString('en-US')} calls each)`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
