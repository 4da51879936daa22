// Full claim announcements after membership news are paced per target: one at once, the rest within
// the interval coalesced into one at its end (the latest request), none lost.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { AnnouncePacer } from '../../src/ownership/announce-pacer.js';

test('a burst of requests runs twice: once at once, once (the latest) at the end of the interval', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    let now = 0;
    // The pacer's clock: `now` as the test sets it, timers from node's mocked setTimeout.
    const pacer = new AnnouncePacer(5000, {
      now: () => now,
      wallNow: () => now,
      at: (at, fire) => {
        const timer = setTimeout(fire, at - now);
        return () => clearTimeout(timer);
      },
    });
    const runs: string[] = [];
    for (let i = 0; i < 100; i++) {
      now = i * 10;
      pacer.run('all', () => runs.push(`all-${i}`));
    }
    pacer.run('member-b', () => runs.push('b'));
    assert.deepEqual(runs, ['all-0', 'b'], 'the first of each key runs at once');
    now = 5000;
    mock.timers.tick(5000);
    assert.deepEqual(runs, ['all-0', 'b', 'all-99'], 'the rest coalesced into the latest, at the end of the interval');
    now = 20_000;
    pacer.run('all', () => runs.push('later'));
    assert.equal(runs.at(-1), 'later', 'after a quiet interval it runs at once again');
    pacer.run('all', () => runs.push('never'));
    pacer.close();
    mock.timers.tick(10_000);
    assert.ok(!runs.includes('never'), 'close drops what is pending');
  } finally {
    mock.timers.reset();
  }
});
