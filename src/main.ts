#!/usr/bin/env node
// swimring's command line: one word picks the command, the rest are its options.
import { runLeave, runMembers, runRoute } from './cli/client.js';

const USAGE = `usage: swimring <command> [options]

commands:
  agent       run the sidecar (see docs/config.md for every option)
  members     list the members a running agent sees        [--state S[,S]] [--tag K=V]... [--wide] [--http-addr H:P] [--json]
  info        this member: readiness, health, table, counts [--http-addr H:P] [--json]
  watch       follow membership and shard move events      [--count N] [--http-addr H:P] [--json]
  force-leave NAME  mark a dead member left at once on every live member (admin)  [--http-addr H:P] [--admin-token-file F] [--json]
  route KEY   owner, replicas, shard and version of keys   [--http-addr H:P] [--json]
  leave       make the agent leave gracefully (admin)      [--http-addr H:P] [--admin-token-file F]
  placement   compute placement offline, no agent needed   --members A,B,C [--shards N] [--replicas R] [--keys K1,K2 | --keys-file F] [--stats] [--json]
  keys        rotate gossip keys cluster-wide             list | install KEY | use KEY | remove KEY | generate [--http-addr H:P] [--admin-token-file F] [--json]
  sim         simulate a whole cluster deterministically   --members N --seed S [--loss P] [--crash K] [--pause K:S] [--duration S] [--profile P] [--json]
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'agent':
      // Before the agent's modules load: their loading is the first burst that would grow the heap.
      {
        const heap = await import('./runtime/heap-tuning.js');
        heap.tuneHeapForAgent();
        heap.enableHeapCompaction();
      }
      return (await import('./cli/agent.js')).runAgent(rest);
    case 'members':
      return runMembers(rest);
    case 'route':
      return runRoute(rest);
    case 'leave':
      return runLeave(rest);
    case 'info':
      return (await import('./cli/inspect.js')).runInfo(rest);
    case 'watch':
      return (await import('./cli/inspect.js')).runWatch(rest);
    case 'force-leave':
      return (await import('./cli/inspect.js')).runForceLeave(rest);
    case 'placement':
      return (await import('./cli/placement.js')).runPlacement(rest);
    case 'sim':
      return (await import('./cli/sim.js')).runSim(rest);
    case 'keys':
      return (await import('./cli/keys.js')).runKeys(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`swimring: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Long-lived handles (gRPC channels, lingering sockets) must not keep a finished command alive.
    if (process.argv[2] !== 'agent' || code !== 0) setTimeout(() => process.exit(code), 50).unref();
    else process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`swimring: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
