// The host CPU model (src/sim/cpu.ts): processor sharing over a few cores, a member's loop held while
// its work waits, and a cold start of whole members paying for start-up, inputs and table builds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HostCpu, type CpuCosts, type CpuEngine } from '../../src/sim/cpu.js';
import { runScenario, type ScenarioOptions } from '../../src/sim/scenario.js';

const COSTS: CpuCosts = { cores: 2, startMs: 100, warmupMs: 0, tableBuildMs: 40, inputMs: 0 };

/** A minimal engine: a timer list run in time order, and the holds and releases it was asked for. */
function engine(): { engine: CpuEngine; log: string[]; runAll: () => number } {
  const timers: { at: number; seq: number; fire: (now: number) => void }[] = [];
  const log: string[] = [];
  let seq = 0;
  let now = 0;
  return {
    log,
    engine: {
      hold: (owner) => log.push(`hold ${owner} @${now}`),
      release: (owner) => log.push(`release ${owner} @${Math.round(now * 1000) / 1000}`),
      at: (at, fire) => timers.push({ at, seq: seq++, fire }),
    },
    runAll: () => {
      for (let i = 0; i < 10_000 && timers.length > 0; i++) {
        timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const next = timers.shift()!;
        now = next.at;
        next.fire(now);
      }
      return now;
    },
  };
}

describe('HostCpu', () => {
  test('one member alone runs at the speed of one core, not more', () => {
    const cpu = new HostCpu(COSTS);
    const e = engine();
    cpu.attach(e.engine);
    cpu.start('a', 0);
    e.runAll();
    assert.deepEqual(e.log, ['hold a @0', 'release a @100']);
  });

  test('four members starting at once on two cores share them: all done at twice the work', () => {
    const cpu = new HostCpu(COSTS);
    const e = engine();
    cpu.attach(e.engine);
    for (const owner of ['a', 'b', 'c', 'd']) cpu.start(owner, 0);
    e.runAll();
    assert.deepEqual(e.log.filter((l) => l.startsWith('release')), ['release a @200', 'release b @200', 'release c @200', 'release d @200']);
    assert.equal(cpu.lastStartedAt, 200);
  });

  test('a table build shares the cores but does not hold the member; its callback gets the time it is done', () => {
    const cpu = new HostCpu(COSTS);
    const e = engine();
    cpu.attach(e.engine);
    let builtAt = -1;
    cpu.tableBuild('a', 0, (at) => {
      builtAt = at;
    });
    cpu.start('b', 0);
    cpu.start('c', 0);
    e.runAll();
    // Three pieces on two cores: each at two thirds of a core until the build (40 ms of CPU) is done at 60 ms.
    assert.equal(builtAt, 60);
    assert.ok(!e.log.some((l) => l.includes(' a ')), 'the builder member was never held');
    assert.deepEqual(e.log.filter((l) => l.startsWith('release')), ['release b @120', 'release c @120']);
    assert.deepEqual(cpu.charged, { start: 200, warmup: 0, build: 40, input: 0, load: 0 });
  });

  test('work a member adds while held runs after what it had: one loop, in order', () => {
    const cpu = new HostCpu({ ...COSTS, inputMs: 10 });
    const e = engine();
    cpu.attach(e.engine);
    cpu.start('a', 0);
    cpu.input('a', 50);
    e.runAll();
    assert.deepEqual(e.log, ['hold a @0', 'release a @110']);
  });

  test('refuses a model without cores, and work before it is attached', () => {
    assert.throws(() => new HostCpu({ ...COSTS, cores: 0 }), /at least one core/);
    assert.throws(() => new HostCpu(COSTS).start('a', 0), /not attached/);
  });
});

describe('a cold start with the CPU model', () => {
  const base: ScenarioOptions = { members: 10, seed: 3, profile: 'lan', loss: 0, crash: 0, pauseCount: 0, pauseSeconds: 0, durationS: 30 };

  test('start-up CPU on shared cores delays convergence by the start work the cores must run', () => {
    const free = runScenario(base);
    const costs: CpuCosts = { cores: 2, startMs: 300, warmupMs: 50, tableBuildMs: 40, inputMs: 1 };
    const loaded = runScenario({ ...base, cpu: costs });
    assert.equal(free.cpu, undefined, 'a run without the model reports no CPU');
    assert.ok(free.convergence_s !== null && loaded.convergence_s !== null);
    const cpu = loaded.cpu!;
    // Ten starts of 300 ms on two cores end together at 1.5 s; the cluster converges only after that.
    assert.equal(cpu.last_started_s, 1.5);
    assert.ok(loaded.convergence_s > 1.5 && loaded.convergence_s > free.convergence_s, `converged at ${loaded.convergence_s} s`);
    assert.equal(cpu.start_s, 3);
    assert.equal(cpu.warmup_s, 0.5);
    assert.ok(cpu.build_s >= 0.4, 'every member built at least one table');
    assert.ok(cpu.input_s > 0);
    assert.equal(loaded.false_dead, 0);
  });

  test('the same seed gives the same report (apart from wall and CPU time)', () => {
    const strip = (r: ReturnType<typeof runScenario>): unknown => ({ ...r, wall_s: 0, wall_per_sim_s: 0, steady_wall_per_sim_s: 0, cpu_s: 0, steady_cpu_per_sim_s: 0 });
    const a = runScenario({ ...base, cpu: COSTS });
    const b = runScenario({ ...base, cpu: COSTS });
    assert.deepEqual(strip(a), strip(b));
  });

  test('is refused with pauses and with a converged start', () => {
    assert.throws(() => runScenario({ ...base, cpu: COSTS, pauseCount: 1, pauseSeconds: 1 }), /without pauses/);
    assert.throws(() => runScenario({ ...base, cpu: COSTS, start: 'converged' }), /cold start/);
  });
});
