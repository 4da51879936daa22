import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runPlacement } from '../../src/cli/placement.js';
import { buildTable, DEFAULT_SHARDS } from '../../src/placement/index.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runPlacement(argv, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

interface JsonAnswer {
  version: string;
  shards: number;
  replicas: number;
  members: string[];
  routes: { key: string; shard: number; owner: string | null; replicas: string[] }[];
  stats: { members: Record<string, number>; shards: number; max_over_mean: number; min_over_mean: number };
}

const dir = mkdtempSync(join(tmpdir(), 'swimring-placement-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('swimring placement', () => {
  test('--json answers what buildTable answers', async () => {
    const { code, out, err } = await run('--members', 'node-c,node-a,node-b', '--keys', 'cart-1,cart-42,user:7', '--json');
    assert.equal(code, 0, err);
    const answer = JSON.parse(out) as JsonAnswer;
    const table = buildTable(['node-a', 'node-b', 'node-c'], { shards: DEFAULT_SHARDS, replicas: 2 });
    assert.equal(answer.version, table.version);
    assert.equal(answer.shards, DEFAULT_SHARDS);
    assert.deepEqual(answer.members, ['node-a', 'node-b', 'node-c']);
    assert.deepEqual(
      answer.routes.map((r) => r.key),
      ['cart-1', 'cart-42', 'user:7'],
    );
    for (const r of answer.routes) {
      assert.equal(r.shard, table.shardOf(r.key));
      assert.equal(r.owner, table.ownerOf(r.shard));
      assert.deepEqual(r.replicas, table.replicasOf(r.shard));
    }
    assert.deepEqual(answer.stats.members, { ...table.shardsPerMember() });
    assert.equal(answer.stats.shards, DEFAULT_SHARDS);
    assert.ok(answer.stats.max_over_mean >= 1 && answer.stats.min_over_mean <= 1);
  });

  test('--shards, --replicas and --flag=value forms', async () => {
    const { code, out } = await run('--members=a,b,c,d', '--shards=100', '--replicas', '1', '--keys=k', '--json');
    assert.equal(code, 0);
    const answer = JSON.parse(out) as JsonAnswer;
    const table = buildTable(['a', 'b', 'c', 'd'], { shards: 100, replicas: 1 });
    assert.equal(answer.version, table.version);
    assert.equal(answer.routes[0]!.shard, table.shardOf('k'));
    assert.equal(answer.routes[0]!.replicas.length, 1);
  });

  test('--keys-file: one key per line, CRLF tolerated, blank lines skipped, commas kept', async () => {
    const file = join(dir, 'keys.txt');
    writeFileSync(file, 'alpha\r\n\nbeta,gamma\nключ\n');
    const { code, out } = await run('--members', 'x,y', '--keys-file', file, '--json');
    assert.equal(code, 0);
    assert.deepEqual(
      (JSON.parse(out) as JsonAnswer).routes.map((r) => r.key),
      ['alpha', 'beta,gamma', 'ключ'],
    );
  });

  test('text output: a header, one line per key, and with --stats the shares', async () => {
    const { code, out } = await run('--members', 'a,b', '--shards', '64', '--keys', 'k1,k2', '--stats');
    assert.equal(code, 0);
    const table = buildTable(['a', 'b'], { shards: 64, replicas: 2 });
    assert.match(out, new RegExp(`^version ${table.version}  members 2  shards 64  replicas 2`));
    assert.match(out, /"k1" +\d+ +[ab] +[ab]\n/);
    assert.match(out, /"k2" +\d+ +[ab] +[ab]\n/);
    assert.match(out, /max\/mean \d\.\d{4}  min\/mean \d\.\d{4}/);
    const counts = table.shardsPerMember();
    assert.match(out, new RegExp(`\\na +${counts['a']} `));
  });

  test('--help prints the usage and succeeds', async () => {
    const { code, out } = await run('--help');
    assert.equal(code, 0);
    assert.match(out, /usage: swimring placement --members/);
  });

  const bad: [string[], RegExp][] = [
    [[], /--members is required/],
    [['--members'], /--members needs a value/],
    [['--members', 'a,,b'], /must not be empty/],
    [['--members', 'a', '--shards', '0'], /--shards: must be from 1/],
    [['--members', 'a', '--shards', '12x'], /--shards: expected a whole number/],
    [['--members', 'a', '--shards', '-3'], /--shards: expected a whole number/],
    [['--members', 'a', '--shards', '99999999999'], /--shards: expected a whole number/],
    [['--members', 'a', '--shards', '2000000'], /shards must be an integer from 1 to 1048576/],
    [['--members', 'a', '--replicas', '17'], /replicas must be an integer from 0 to 16/],
    [['--members', 'a', '--vnodes', '1000'], /vnodes must be a power of two/],
    [['--members', 'a', '--bounded-load', 'lots'], /--bounded-load: expected a number/],
    [['--members', 'a', '--bounded-load', '0.5'], /boundedLoad must be null \(off\) or a number from 1/],
    [['--members', 'a', '--keys', 'x', '--keys-file', 'f'], /not both/],
    [['--members', 'a', '--keys-file', '/nonexistent/keys'], /cannot read \/nonexistent\/keys: ENOENT/],
    [['--members', 'a', '--members', 'b'], /given twice/],
    [['--members', 'a', '--frobnicate'], /unknown argument "--frobnicate"/],
  ];
  for (const [argv, message] of bad) {
    test(`bad input exits 2: ${argv.join(' ') || '(nothing)'}`, async () => {
      const { code, out, err } = await run(...argv);
      assert.equal(code, 2);
      assert.equal(out, '');
      assert.match(err, message);
      assert.match(err, /usage: swimring placement/);
    });
  }
});
