// Completeness: a crashed member is declared dead by every live member within the bound the profile
// implies. The bound, from the config (n = cluster size at the crash):
//   first suspicion  <= 5 probe intervals (some live member picks the crashed one as its probe target;
//                       with n-1 probers the expected wait is ~1 interval) + 1 probe interval (direct
//                       probe, indirect probes, suspicion at the end of the period)
//   dead everywhere  <= first suspicion + the maximum suspicion timeout (no confirmations:
//                       suspicionMaxTimeoutMult * suspicionMult * max(1, log10 n) * probeInterval)
//                       + 20 gossip intervals (dissemination of the dead update)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProfileName, SwimConfig } from '../../src/core/config.js';
import { converge, startCluster } from './helpers.js';

function detectionBounds(config: SwimConfig, n: number): { firstSuspectMs: number; deadEverywhereMs: number } {
  const minSuspicion = config.suspicionMult * Math.max(1, Math.log10(Math.max(n, 1))) * config.probeIntervalMs;
  const maxSuspicion = config.suspicionMaxTimeoutMult * minSuspicion;
  const firstSuspectMs = 6 * config.probeIntervalMs;
  return { firstSuspectMs, deadEverywhereMs: firstSuspectMs + maxSuspicion + 20 * config.gossipIntervalMs };
}

describe('completeness', () => {
  for (const profile of ['lan', 'local'] as ProfileName[]) {
    test(`${profile}: 3 of 50 members crash; each is suspected and then dead everywhere within the bound`, () => {
      const { sim, nodes, config } = startCluster(50, { seed: 11, profile });
      converge(sim, 60_000);
      sim.runFor(10 * config.probeIntervalMs);
      const bounds = detectionBounds(config, nodes.length);
      const victims = [nodes[7], nodes[23], nodes[41]].filter((n) => n !== undefined);
      const crashedAt = sim.now;
      for (const v of victims) {
        sim.crash(v);
        sim.observer.resetName(v.name, sim.now);
      }
      sim.runFor(bounds.deadEverywhereMs + config.probeIntervalMs);
      for (const v of victims) {
        const suspectedAt = Math.min(
          ...[sim.observer.firstSeenAt(v.name, 'suspect'), sim.observer.firstSeenAt(v.name, 'dead')].filter((t) => !Number.isNaN(t)),
        );
        const deadAt = sim.observer.everyoneSawAt(v.name, 'dead');
        assert.ok(suspectedAt - crashedAt <= bounds.firstSuspectMs, `${v.name} first suspected after ${suspectedAt - crashedAt} ms (bound ${bounds.firstSuspectMs})`);
        assert.ok(!Number.isNaN(deadAt), `${v.name} was not declared dead by every live member`);
        assert.ok(deadAt - crashedAt <= bounds.deadEverywhereMs, `${v.name} dead everywhere after ${deadAt - crashedAt} ms (bound ${bounds.deadEverywhereMs})`);
      }
    });
  }
});
