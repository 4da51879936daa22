// POST /v1/members/:name/force-leave in process: the local force-leave first; only when it marked the
// member left are the other members asked (forceLeaveEverywhere), and the answer is per member. A local
// refusal (409 member_live, 404 not_found) asks nobody.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatForceLeave } from '../../src/cli/inspect.js';
import { buildAppApi } from '../../src/http/index.js';
import { createMetrics } from '../../src/metrics.js';
import type { ForceLeaveSummary } from '../../src/runtime/force-leave.js';
import type { ForceLeaveResult } from '../../src/runtime/view.js';
import { FakeView } from './fake-view.js';

const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };

class ForceLeaveView extends FakeView {
  readonly held = new Map<string, 'alive' | 'suspect' | 'dead' | 'left'>([
    ['m2', 'alive'],
    ['m3', 'suspect'],
    ['m4', 'dead'],
  ]);
  readonly fannedOut: string[] = [];

  forceLeave(name: string): ForceLeaveResult {
    if (name === this.name) return { refused: 'self' };
    const state = this.held.get(name);
    if (state === undefined) return { refused: 'unknown' };
    if (state === 'alive' || state === 'suspect') return { refused: state };
    this.held.set(name, 'left');
    return { refused: null, state: 'left' };
  }

  forceLeaveEverywhere(name: string, local: ForceLeaveResult & { readonly refused: null }): Promise<ForceLeaveSummary> {
    this.fannedOut.push(name);
    return Promise.resolve({
      name,
      members: 3,
      left: 2,
      results: [
        { member: this.name, state: local.state },
        { member: 'm2', state: 'left' },
        { member: 'm3', state: 'alive', error: 'alive' },
      ],
    });
  }
}

describe('POST /v1/members/:name/force-leave', () => {
  test('a dead member is marked left here, then on the others; the answer is per member', async () => {
    const view = new ForceLeaveView();
    const app = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }), adminToken: ADMIN_TOKEN });
    const res = await app.inject({ method: 'POST', url: '/v1/members/m4/force-leave', headers: ADMIN });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      name: 'm4',
      state: 'left',
      members: 3,
      left: 2,
      results: [
        { member: 'm1', state: 'left' },
        { member: 'm2', state: 'left' },
        { member: 'm3', state: 'alive', error: 'alive' },
      ],
    });
    assert.deepEqual(view.fannedOut, ['m4']);
    assert.equal(view.held.get('m4'), 'left');
  });

  test('a member held alive or suspect here, this agent and an unknown name are refused and nobody is asked', async () => {
    const view = new ForceLeaveView();
    const app = buildAppApi(view, { metrics: createMetrics({ defaultMetrics: false }), adminToken: ADMIN_TOKEN });
    const answers: [string, number, string][] = [];
    for (const name of ['m2', 'm3', 'm1', 'nobody']) {
      const res = await app.inject({ method: 'POST', url: `/v1/members/${name}/force-leave`, headers: ADMIN });
      answers.push([name, res.statusCode, (res.json() as { error: { code: string } }).error.code]);
    }
    assert.deepEqual(answers, [
      ['m2', 409, 'member_live'],
      ['m3', 409, 'member_live'],
      ['m1', 409, 'member_live'],
      ['nobody', 404, 'not_found'],
    ]);
    assert.deepEqual(view.fannedOut, []);
    assert.deepEqual([...view.held], [['m2', 'alive'], ['m3', 'suspect'], ['m4', 'dead']]);
  });

  test('without forceLeaveEverywhere (a view of one member), the answer names this member only', async () => {
    const view = new ForceLeaveView();
    const local: Pick<ForceLeaveView, 'forceLeave'> = view;
    const single = Object.assign(new FakeView(), { forceLeave: (name: string) => local.forceLeave(name) });
    const app = buildAppApi(single, { metrics: createMetrics({ defaultMetrics: false }), adminToken: ADMIN_TOKEN });
    const res = await app.inject({ method: 'POST', url: '/v1/members/m4/force-leave', headers: ADMIN });
    assert.deepEqual(res.json(), { name: 'm4', state: 'left', members: 1, left: 1, results: [{ member: 'm1', state: 'left' }] });
  });

  test('the CLI prints N/N members, each refusal with its reason and each failed call', () => {
    const text = formatForceLeave({
      name: 'm4',
      members: 4,
      left: 1,
      results: [
        { member: 'm1', state: 'left' },
        { member: 'm2', state: 'suspect', error: 'suspect' },
        { member: 'm3', state: null, error: 'unknown' },
        { member: 'm5', state: null, error: '14 UNAVAILABLE: No connection established' },
      ],
    });
    assert.equal(
      text,
      [
        'm4 is marked left on 1/4 members',
        '  refused by m2: it holds the member suspect',
        '  refused by m3: the member is not in its view',
        '  failed on m5: 14 UNAVAILABLE: No connection established',
      ].join('\n'),
    );
    assert.equal(formatForceLeave({ name: 'm4', members: 2, left: 2, results: [] }), 'm4 is marked left on 2/2 members');
  });
});
