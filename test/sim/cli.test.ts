// `swimring sim` (src/cli/sim.ts): flags, exit codes, the JSON report's fields and the table.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSim } from '../../src/cli/sim.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runSim(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

const REQUIRED_FIELDS = [
  'members',
  'seed',
  'profile',
  'loss',
  'convergence_s',
  'detection_first_suspect_s',
  'detection_first_suspect_s_max',
  'detection_all_dead_s',
  'detection_all_dead_s_max',
  'false_dead',
  'false_suspect',
  'bytes_per_member_per_s',
  'messages_per_member_per_s',
  'wall_s',
];

describe('swimring sim', () => {
  test('--json prints one object with every documented field', async () => {
    const { code, out, err } = await run(['--members', '20', '--seed', '3', '--profile', 'local', '--crash', '1', '--duration', '20', '--json']);
    assert.equal(code, 0, err);
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 1);
    const report = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    for (const field of REQUIRED_FIELDS) assert.ok(field in report, `missing ${field}`);
    assert.equal(report.members, 20);
    assert.equal(report.profile, 'local');
    assert.equal(typeof report.convergence_s, 'number');
    assert.equal(typeof report.detection_all_dead_s, 'number');
    assert.equal(report.false_dead, 0);
  });

  test('--split and --isolate report the cut, the heal and the reconvergence', async () => {
    const { code, out, err } = await run(['--members', '10', '--seed', '2', '--profile', 'local', '--split', '3:7:10', '--duration', '60', '--json']);
    assert.equal(code, 0, err);
    const report = JSON.parse(out) as Record<string, unknown>;
    assert.equal(report.cut, 'split');
    assert.deepEqual(report.cut_members, [3, 7]);
    assert.equal(report.cut_s, 10);
    assert.equal(typeof report.healed_at_s, 'number');
    assert.equal(typeof report.reconverged_s, 'number');
    assert.equal(report.false_dead, 0);
    const table = await run(['--members', '10', '--seed', '2', '--profile', 'local', '--isolate', '1:10', '--duration', '60']);
    assert.match(table.out, /^cut\s+isolate 1 for 10 s/m);
    assert.match(table.out, /^false dead \(verdicts about reachable members\)\s+0$/m);
  });

  test('--drain reports the fleet operation in the JSON and the table', async () => {
    const json = await run(['--members', '12', '--seed', '1', '--drain', '2', '--json']);
    assert.equal(json.code, 0);
    const report = JSON.parse(json.out) as { fleet: { operation: string; pods_replaced: number; keys_without_serving_owner: number } | null };
    assert.ok(report.fleet !== null);
    assert.equal(report.fleet.operation, 'drain');
    assert.equal(report.fleet.pods_replaced, 2);
    assert.equal(report.fleet.keys_without_serving_owner, 0);
    const table = await run(['--members', '12', '--seed', '1', '--drain', '2']);
    assert.match(table.out, /^fleet operation\s+drain: 2 pods replaced/m);
    assert.match(table.out, /^keys without a serving, running owner\s+0 of \d/m);
  });

  test('prints a readable table by default', async () => {
    const { code, out } = await run(['--members', '10', '--seed', '1', '--profile', 'local', '--duration', '5']);
    assert.equal(code, 0);
    assert.match(out, /^convergence\s+\d/m);
    assert.match(out, /^bytes \/ member \/ s\s+\d/m);
  });

  test('--cpu models the host CPU and reports when the last member started', async () => {
    const json = await run(['--members', '8', '--seed', '1', '--cpu', '2', '--duration', '20', '--json']);
    assert.equal(json.code, 0, json.err);
    const report = JSON.parse(json.out) as { convergence_s: number; cpu: { cores: number; last_started_s: number; start_s: number } };
    assert.equal(report.cpu.cores, 2);
    assert.ok(report.cpu.last_started_s > 0 && report.convergence_s >= report.cpu.last_started_s);
    assert.ok(report.cpu.start_s > 0);
    const table = await run(['--members', '8', '--seed', '1', '--cpu', '2', '--duration', '20']);
    assert.match(table.out, /^modelled CPU \(all members\)\s+[\d.]+ s on 2 cores/m);
  });

  const bad: [string[], RegExp][] = [
    [['--members', '10', '--seed', '1', '--cpu', '0'], /--cpu must be between 1 and 1024/],
    [['--members', '10', '--seed', '1', '--cpu', '2', '--pause', '1:5'], /--cpu models a cold start/],
    [['--members', '10', '--seed', '1', '--cpu', '2', '--start', 'converged'], /--cpu models a cold start/],
    [['--seed', '1'], /--members is required/],
    [['--members', '10'], /--seed is required/],
    [['--members', 'ten', '--seed', '1'], /--members must be a whole number/],
    [['--members', '0', '--seed', '1'], /--members must be between 1/],
    [['--members', '10', '--seed=-4'], /--seed must be a whole number/],
    [['--members', '10', '--seed', '4294967296'], /--seed must be between 0 and 4294967295/],
    [['--members', '10', '--seed', '1', '--loss', '1'], /--loss must be below 1/],
    [['--members', '10', '--seed', '1', '--loss', 'lots'], /--loss must be a non-negative number/],
    [['--members', '10', '--seed', '1', '--pause', '3'], /--pause must look like K:SECONDS/],
    [['--members', '10', '--seed', '1', '--crash', '6', '--pause', '4:5'], /must leave at least one/],
    [['--members', '10', '--seed', '1', '--profile', 'fast'], /--profile must be lan, local or wan/],
    [['--members', '10', '--seed', '1', '--duration', '0'], /--duration must be above 0/],
    [['--members', '10', '--seed', '1', '--bogus'], /Unknown option '--bogus'/],
    [['--members', '10', '--seed', '1', 'extra'], /positional/],
    [['--members', '10', '--seed', '1', '--isolate', '2'], /--isolate must look like K:SECONDS/],
    [['--members', '10', '--seed', '1', '--isolate', '10:5'], /--isolate must be between 1 and 9/],
    [['--members', '10', '--seed', '1', '--split', '3:6:60'], /--split A \+ B must be the member count 10/],
    [['--members', '10', '--seed', '1', '--split', '3:7:0'], /--split SECONDS must be above 0/],
    [['--members', '10', '--seed', '1', '--split', '3:7:60', '--isolate', '1:5'], /cannot be combined/],
    [['--members', '10', '--seed', '1', '--split', '3:7:60', '--crash', '1'], /run alone/],
    [['--members', '10', '--seed', '1', '--drain', '10'], /--drain must be between 1 and 9/],
    [['--members', '10', '--seed', '1', '--drain', 'all'], /--drain must be a whole number/],
    [['--members', '10', '--seed', '1', '--rolling-update', '--statefulset-restart'], /cannot be combined/],
    [['--members', '10', '--seed', '1', '--rolling-update', '--crash', '1'], /run alone/],
  ];
  for (const [argv, message] of bad) {
    test(`rejects ${argv.join(' ')} with exit 2`, async () => {
      const { code, out, err } = await run(argv);
      assert.equal(code, 2);
      assert.equal(out, '');
      assert.match(err, message);
      assert.match(err, /usage: swimring sim/);
    });
  }

  test('refuses a member count whose N^2 member records cannot fit in the heap, with exit 2', async () => {
    const { code, out, err } = await run(['--members', '20000', '--seed', '1']);
    assert.equal(code, 2);
    assert.equal(out, '');
    assert.match(err, /20000 members need about \d+\.\d GB of heap/);
    assert.match(err, /--max-old-space-size=\d+/);
  });

  test('--help prints the usage and exits 0', async () => {
    const { code, out } = await run(['--help']);
    assert.equal(code, 0);
    assert.match(out, /usage: swimring sim --members N --seed S/);
  });
});
