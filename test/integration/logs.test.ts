// Log format of a real agent (127.0.0.150-152): JSON lines when stdout is not a terminal, readable lines
// on a terminal (a pseudo-terminal made with util-linux `script`), and --log-format overriding either.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import { resolveLogFormat } from '../../src/cli/logger.js';
import { Cluster, MAIN, waitFor } from './harness.js';

const RUNNING = 'swimring is running';

describe('log format', { timeout: 120_000 }, () => {
  const cluster = new Cluster();
  after(async () => {
    await cluster.stopAll();
  });

  test('auto means pretty on a terminal, JSON elsewhere; json and pretty are what they say', () => {
    assert.equal(resolveLogFormat('auto', true), 'pretty');
    assert.equal(resolveLogFormat('auto', false), 'json');
    assert.equal(resolveLogFormat('json', true), 'json');
    assert.equal(resolveLogFormat('pretty', false), 'pretty');
  });

  test('stdout a pipe: one JSON object per line', async () => {
    const node = cluster.start(cluster.spec(0, { name: 'log-json', host: '127.0.0.150', seeds: [] }));
    await waitFor('the running line', 30_000, async () => node.logs.some((l) => l.includes(RUNNING)));
    for (const line of node.logs) {
      const entry = JSON.parse(line) as { level: number; msg: string; self: string };
      assert.equal(entry.self, 'log-json');
      assert.equal(typeof entry.level, 'number');
    }
  });

  test('--log-format pretty on a pipe: readable lines, not JSON', async () => {
    const node = cluster.start(cluster.spec(1, { name: 'log-pretty', host: '127.0.0.151', seeds: [], extraArgs: ['--log-format', 'pretty'] }));
    await waitFor('the running line', 30_000, async () => node.logs.some((l) => l.includes(RUNNING)));
    const running = node.logs.find((l) => l.includes(RUNNING)) ?? '';
    assert.match(running, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: log-pretty: swimring is running$/);
    assert.ok(node.logs.every((l) => !l.startsWith('{')), 'no JSON line');
  });

  test('stdout a terminal: readable, colored lines without asking; --log-format json turns them back', async () => {
    for (const [format, pretty] of [[null, true], ['json', false]] as const) {
      const spec = cluster.spec(2, { name: `log-tty-${format ?? 'auto'}`, host: '127.0.0.152', seeds: [] });
      const p = spec.portBase;
      const args = [MAIN, 'agent', '--name', spec.name, '--gossip-addr', `${spec.host}:${p}`, '--grpc-addr', `${spec.host}:${p + 1}`, '--http-addr', `${spec.host}:${p + 2}`, '--ops-addr', `${spec.host}:${p + 3}`, '--advertise-host', spec.host, '--profile', 'local', '--shards', '1024', ...(format ? ['--log-format', format] : [])];
      const command = ['exec', process.execPath, ...args].map((a) => `'${a}'`).join(' ');
      // script gives the agent a pseudo-terminal as stdout; detached, so its whole group can be ended by id.
      const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, SWIMRING_LOG_LEVEL: 'info' } });
      let output = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => (output += chunk));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        await waitFor(`the running line (${format ?? 'auto'})`, 30_000, async () => output.includes(RUNNING));
      } finally {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        await exited;
      }
      const running = output.split(/\r?\n/).find((l) => l.includes(RUNNING)) ?? '';
      if (pretty) {
        assert.match(running, /\x1b\[3\dm/, 'colored');
        assert.ok(!running.trimStart().startsWith('{'), running);
      } else {
        assert.equal((JSON.parse(running) as { msg: string }).msg, RUNNING);
      }
    }
  });
});
