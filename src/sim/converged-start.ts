// A run that starts where a settled cold start ends (`swimring sim --start converged`, docs/sim.md): a
// cold start of N members passes N introductions through every member, work that grows as N^2 and
// stands between a large simulation and the steady state its figures are about.
import type { MemberRecord } from '../core/types.js';
import type { SimNode, Simulator } from './simulator.js';

/**
 * Starts `nodes` (just added, none joined) as a cluster that has already converged: every core holds
 * every node's current record, alive, from one list shared by all of them, with nothing queued. The
 * cores emit no joined events (N per core is N^2 in all); the observer is told each view in one step,
 * and the simulator's onEvent hook hears none of them.
 */
export function startConverged(sim: Simulator, nodes: readonly SimNode[], seeds: readonly SimNode[]): void {
  const records: MemberRecord[] = [];
  for (const node of nodes) {
    const record = node.runningCore.member(node.name);
    if (record === undefined) throw new Error(`${node.name} does not hold its own record`);
    records.push(record);
  }
  const seedAddrs = seeds.map((s) => s.grpcAddr);
  for (const node of nodes) {
    if (node.runningCore.startConverged === undefined) throw new Error('a converged start needs cores that support it (whole members)');
    sim.input(node, (core, now) => core.startConverged?.(seedAddrs, records, now) ?? []);
    sim.observer.onJoinedAll(node.id, records, sim.now);
  }
}
