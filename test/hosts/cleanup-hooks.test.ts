// The hooks every host test installs: they must clean up when the run is interrupted, and leave no
// listener behind when it is not. Needs no root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CleanupHooks } from './cleanup-hooks.js';

test('release() cleans up and removes every listener it added', () => {
  const before = ['SIGINT', 'SIGTERM', 'exit'].map((e) => process.listenerCount(e));
  let runs = 0;
  const hooks = new CleanupHooks(() => runs++);
  hooks.install();
  assert.deepEqual(['SIGINT', 'SIGTERM', 'exit'].map((e) => process.listenerCount(e)), before.map((n) => n + 1));
  hooks.release();
  assert.equal(runs, 1);
  assert.deepEqual(['SIGINT', 'SIGTERM', 'exit'].map((e) => process.listenerCount(e)), before);
});

test('SIGTERM and SIGINT clean up and exit with the shell code of the signal', () => {
  const module = fileURLToPath(new URL('./cleanup-hooks.ts', import.meta.url));
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
    const script = `
      const { CleanupHooks } = await import(${JSON.stringify(module)});
      new CleanupHooks(() => process.stdout.write('cleaned ')).install();
      process.kill(process.pid, ${JSON.stringify(signal)});
      setTimeout(() => process.stdout.write('not stopped'), 5000);
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, code, child.stderr);
    assert.match(child.stdout, /^cleaned /);
    assert.doesNotMatch(child.stdout, /not stopped/);
  }
});
