// The status page (/ui) in a real browser (Debian's chromium through playwright-core) against five real
// sidecars: it lists the members with their tags as text (a tag holding markup stays text), shows each
// member's share of shards, turns a member killed with SIGKILL dead within the detection bound, lists the
// shard moves that followed, and logs no console error. 127.0.0.130-134, local profile.
// UPDATE_SCREENSHOT=1 also writes docs/status-page.png from the five-member page.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { PROFILES } from '../../src/core/config.js';
import { launchChromium, type Browser } from '../support/browser.js';
import { CHROMIUM, skipUnlessTool } from '../support/tools.js';
import { ROOT } from '../deploy/manifests.js';
import { Cluster, waitFor, type SidecarProcess } from './harness.js';

const MEMBERS = 5;
const HOSTILE_TAG = '<img src=x onerror=window.__pwned=1>';

/**
 * Longest a member may take to be declared dead on the local profile: every other member probed once
 * before it (round robin), its probe and indirect probes failing, the longest suspicion, all stretched by
 * Lifeguard's largest awareness factor (a loaded machine slows its probes down that far).
 */
function detectionBoundMs(members: number): number {
  const p = PROFILES.local;
  const suspicionMax = p.suspicionMaxTimeoutMult * p.suspicionMult * Math.max(1, Math.log10(members)) * p.probeIntervalMs;
  return (members * p.probeIntervalMs + p.probeIntervalMs + suspicionMax) * p.awarenessMaxMultiplier;
}

async function rowStates(page: Page): Promise<Record<string, string>> {
  // Runs in the page; the tests are compiled without the DOM library, so the rows are typed by hand.
  return page.$$eval('#members tr', (rows) =>
    Object.fromEntries(rows.map((r) => {
      const data = (r as unknown as { dataset: Record<string, string | undefined> }).dataset;
      return [data['member'] ?? '', data['state'] ?? ''];
    })),
  );
}

describe('status page in chromium', { timeout: 240_000, skip: skipUnlessTool(CHROMIUM) }, () => {
  const cluster = new Cluster(undefined, { hostBase: 130, namePrefix: 'ui' });
  const nodes: SidecarProcess[] = [];
  let browser: Browser | null = null;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    for (let i = 0; i < MEMBERS; i++) {
      const tags = i === 2 ? `zone=z${i},note=${HOSTILE_TAG}` : `zone=z${i}`;
      nodes.push(cluster.start(cluster.spec(i, { extraArgs: ['--tags', tags] })));
    }
    await waitFor('five alive members', 60_000, async () => {
      const body = (await nodes[0]?.json<{ members: { state: string }[] }>('/v1/members'))?.body;
      return body?.members.filter((m) => m.state === 'alive').length === MEMBERS;
    });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} ${JSON.stringify(m.location())}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    await page.goto(`${nodes[0]?.httpBase}/ui`);
  });

  after(async () => {
    await browser?.close();
    await cluster.stopAll();
  });

  test('lists the five members, their shares and tags (markup in a tag stays text)', async () => {
    await waitFor('five alive rows and five share bars', 20_000, async () => {
      const states = await rowStates(page);
      const bars = await page.locator('#shares .bar').count();
      return Object.values(states).filter((s) => s === 'alive').length === MEMBERS && bars === MEMBERS;
    });
    assert.equal(await page.locator('#ready').textContent(), 'ready');
    assert.equal(await page.locator('#stream').textContent(), 'live');
    assert.ok((await page.locator('#members .tag').allTextContents()).includes(`note=${HOSTILE_TAG}`));
    assert.equal(await page.locator('#members img').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned), undefined);
    const table = (await nodes[0]?.json<{ version: string }>('/v1/table'))?.body;
    await waitFor('the table version on the page', 10_000, async () => (await page.locator('#version').textContent()) === table?.version);
    // Health (4th column) and table agreement (5th) as each member answered for itself.
    await waitFor("every member's own health score, and one table version", 15_000, async () => {
      const cells = await page.locator('#members tr').evaluateAll((rows) =>
        rows.map((r) => Array.from((r as unknown as { children: ArrayLike<{ textContent: string | null }> }).children).slice(3, 5).map((c) => c.textContent ?? '')),
      );
      return cells.length === MEMBERS && cells.every(([health, agree]) => /^\d+$/.test(health ?? '') && agree === 'same');
    });
    if (process.env['UPDATE_SCREENSHOT'] === '1') await page.screenshot({ path: join(ROOT, 'docs', 'status-page.png'), fullPage: true });
  });

  test('kill -9 of one member shows it dead within the detection bound, then the moves away from it', async () => {
    const victim = nodes[MEMBERS - 1];
    assert.ok(victim);
    const bound = detectionBoundMs(MEMBERS);
    victim.signal('SIGKILL');
    await waitFor(`${victim.name} dead on the page within ${bound} ms`, bound, async () => (await rowStates(page))[victim.name] === 'dead', 50);
    await waitFor('a move away from the dead member', 20_000, async () => (await page.locator('#moves').textContent())?.includes(`${victim.name} → `));
    await waitFor('four share bars', 10_000, async () => (await page.locator('#shares .bar').count()) === MEMBERS - 1);
  });

  test('no console errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
