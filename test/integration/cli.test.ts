// The operator commands against real sidecars (127.0.0.140-142, local profile): `members` filters and
// its wide view, `info`, `watch` following a kill -9, and `force-leave` (refused for live members and
// unknown names with no member's view changed, done for a dead one on every remaining member at once).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { defaultAdminTokenFile } from '../../src/http/admin-token.js';
import { Cluster, MAIN, waitFor, type SidecarProcess } from './harness.js';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: readonly string[]): Run {
  const res = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, SWIMRING_NAME: '' } });
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

type Members = { members: { name: string; state: string; incarnation: number }[] };

describe('swimring members, info, watch and force-leave', { timeout: 180_000 }, () => {
  const cluster = new Cluster(undefined, { hostBase: 140, namePrefix: 'cli' });
  const host = (i: number): string => cluster.host(i);
  const zones = ['a', 'b', 'a'];
  const nodes: SidecarProcess[] = [];
  let http = '';

  before(async () => {
    for (let i = 0; i < 3; i++) {
      // Dead members are kept a minute, so the force-leave below finds its member still dead.
      const extraArgs = ['--tags', `zone=${zones[i]},rack=r${i}`, '--dead-retention-ms', '60000'];
      nodes.push(cluster.start(cluster.spec(i, { extraArgs })));
    }
    http = `${host(0)}:${cluster.portBase + 2}`;
    await waitFor('three alive members', 60_000, async () => {
      const body = (await nodes[0]?.json<Members>('/v1/members'))?.body;
      return body?.members.filter((m) => m.state === 'alive').length === 3;
    });
  });

  after(async () => {
    await cluster.stopAll();
  });

  test('members --state and --tag filter; --wide adds shards and tags', () => {
    const zoneA = cli(['members', '--http-addr', http, '--state', 'alive', '--tag', 'zone=a']);
    assert.equal(zoneA.status, 0, zoneA.stderr);
    assert.match(zoneA.stdout, /^cli-0 \*/m);
    assert.match(zoneA.stdout, /^cli-2 /m);
    assert.doesNotMatch(zoneA.stdout, /cli-1/);
    assert.match(zoneA.stdout, /2 of 3 members shown/);
    const both = cli(['members', '--http-addr', http, '--tag', 'zone=a', '--tag', 'rack=r2', '--json']);
    assert.deepEqual((JSON.parse(both.stdout) as Members).members.map((m) => m.name), ['cli-2']);
    assert.match(cli(['members', '--http-addr', http, '--state', 'dead']).stdout, /0 of 3 members shown/);

    const wide = cli(['members', '--http-addr', http, '--wide']);
    assert.equal(wide.status, 0, wide.stderr);
    const [header, ...rows] = wide.stdout.trim().split('\n');
    assert.match(header ?? '', /^NAME\s+STATE\s+SERVING\s+INCARNATION\s+SHARDS\s+GOSSIP\s+GRPC\s+APP\s+TAGS$/);
    const shards = rows.slice(0, 3).map((r) => Number(r.split(/\s+/)[r.includes(' * ') ? 5 : 4]));
    assert.equal(shards.reduce((a, b) => a + b, 0), 16384, wide.stdout);
    assert.match(wide.stdout, /rack=r1,zone=b|zone=b,rack=r1/);

    const bad = cli(['members', '--http-addr', http, '--state', 'sleepy']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown state "sleepy"/);
  });

  test('info: readiness, health score, counts, table and listeners', () => {
    const run = cli(['info', '--http-addr', http]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^name\s+cli-0$/m);
    assert.match(run.stdout, /^ready\s+yes$/m);
    assert.match(run.stdout, /^health score\s+0 /m);
    assert.match(run.stdout, /^members\s+3 \(alive 3, suspect 0, dead 0, left 0\)$/m);
    assert.match(run.stdout, /^table\s+version [0-9a-f]+, 16384 shards, 2 replicas, 3 owners$/m);
    assert.match(run.stdout, new RegExp(`^listeners\\s+gossip ${host(0).replace(/\./g, '\\.')}:\\d+, grpc .*, http ${http.replace(/\./g, '\\.')}, ops `, 'm'));
    const json = JSON.parse(cli(['info', '--http-addr', http, '--json']).stdout) as { name: string; members: { total: number } };
    assert.equal(json.name, 'cli-0');
    assert.equal(json.members.total, 3);
  });

  /** Every running member's view of `name`: [member, state, incarnation]. */
  const viewsOf = async (name: string, of: readonly number[]): Promise<unknown[]> =>
    Promise.all(
      of.map(async (i) => {
        const m = (await nodes[i]?.json<Members>('/v1/members'))?.body.members.find((r) => r.name === name);
        return [`cli-${i}`, m?.state, m?.incarnation];
      }),
    );

  test('force-leave refuses a live member and an unknown name; no member changes its view', async () => {
    const token = defaultAdminTokenFile('cli-0');
    const before = await viewsOf('cli-1', [0, 1, 2]);
    assert.deepEqual(before.map((v) => (v as unknown[])[1]), ['alive', 'alive', 'alive']);
    const live = cli(['force-leave', 'cli-1', '--http-addr', http, '--admin-token-file', token]);
    assert.equal(live.status, 1);
    assert.match(live.stderr, /409.*member_live.*cli-1 is alive/);
    assert.deepEqual(await viewsOf('cli-1', [0, 1, 2]), before, 'refused: cli-1 is alive at its incarnation on every member');
    const unknown = cli(['force-leave', 'nobody', '--http-addr', http, '--admin-token-file', token]);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /404.*not_found/);
    const noToken = cli(['force-leave', 'cli-1', '--http-addr', http, '--admin-token-file', '/nonexistent/token']);
    assert.equal(noToken.status, 1);
  });

  test('watch follows a kill -9 (suspect, dead, moves); force-leave then marks the dead member left', async () => {
    const lines: string[] = [];
    const watcher = spawn(process.execPath, [MAIN, 'watch', '--http-addr', http], { stdio: ['ignore', 'pipe', 'pipe'] });
    let exited: Promise<number | null> | null = null;
    try {
      exited = new Promise((resolve) => watcher.once('exit', (code) => resolve(code)));
      watcher.stdout.setEncoding('utf8');
      watcher.stdout.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter((l) => l !== '')));
      await waitFor('the snapshot line', 20_000, async () => lines.some((l) => / snapshot  table [0-9a-f]+: 3 members \(3 alive\)$/.test(l)));
      nodes[1]?.signal('SIGKILL');
      await waitFor('cli-1 dead in the watch', 60_000, async () => lines.some((l) => / member    cli-1 (alive|suspect) -> dead /.test(l)));
      await waitFor('the moves away from cli-1', 20_000, async () => lines.some((l) => / moves     table [0-9a-f]+ -> [0-9a-f]+: \d+ owner and \d+ replica moves; cli-1 -> cli-[02]: \d+/.test(l)));

      await waitFor('cli-1 dead on every remaining member', 60_000, async () => {
        const views = await viewsOf('cli-1', [0, 2]);
        return views.every((v) => (v as unknown[])[1] === 'dead');
      });

      const forced = cli(['force-leave', 'cli-1', '--http-addr', http, '--admin-token-file', defaultAdminTokenFile('cli-0')]);
      assert.equal(forced.status, 0, forced.stderr);
      assert.match(forced.stdout, /^cli-1 is marked left on 2\/2 members$/m);
      assert.doesNotMatch(forced.stdout, /refused/);
      // At once on both: the records are kept a minute after death, so `left` here is the force-leave's.
      const after = await viewsOf('cli-1', [0, 2]);
      assert.deepEqual(after.map((v) => (v as unknown[]).slice(0, 2)), [['cli-0', 'left'], ['cli-2', 'left']]);
      const json = JSON.parse(cli(['force-leave', 'cli-1', '--http-addr', http, '--admin-token-file', defaultAdminTokenFile('cli-0'), '--json']).stdout) as {
        members: number;
        left: number;
        results: { member: string; state: string | null; error?: string }[];
      };
      assert.deepEqual([json.members, json.left], [2, 2], 'asked again: still left on both');
      assert.deepEqual(json.results.map((r) => [r.member, r.state, r.error]).sort(), [['cli-0', 'left', undefined], ['cli-2', 'left', undefined]]);
      await waitFor('the force-leave in the watch', 10_000, async () => lines.some((l) => / member    cli-1 dead -> left \(incarnation \d+, force-leave/.test(l)));
    } finally {
      watcher.kill('SIGINT');
    }
    assert.equal(await exited, 0, 'Ctrl-C ends the watch cleanly');
  });
});
