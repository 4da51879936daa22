// One real sidecar agent (node dist/main.js agent) for the tests that run processes: on loopback
// addresses (test/integration/harness.ts) or inside a network namespace (test/hosts/cluster.ts). It
// builds the command line both use, keeps the process's last log lines and tracks its exit. Whoever
// starts one ends it, by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface AgentArgs {
  readonly name: string;
  /** Where every listener binds. */
  readonly host: string;
  readonly ports: { readonly gossip: number; readonly grpc: number; readonly http: number; readonly ops: number; readonly app: number };
  /** What peers dial (the host itself, or a relay in front of it). */
  readonly advertiseHost: string;
  readonly profile: string;
  /** null: the agent's default shard count. */
  readonly shards: number | null;
  readonly seeds: readonly string[];
  readonly extraArgs?: readonly string[];
  /** The agent's entry point: this worktree's dist/main.js unless given (a bench comparing two builds). */
  readonly main?: string;
  /** Node's own flags, before the entry point (a bench's --cpu-prof, which NODE_OPTIONS refuses). */
  readonly nodeArgs?: readonly string[];
}

/** The agent's command line after the node executable: dist/main.js agent and its flags. */
export function agentArgs(a: AgentArgs): string[] {
  const { host, ports } = a;
  return [
    ...(a.nodeArgs ?? []),
    a.main ?? MAIN,
    'agent',
    '--name', a.name,
    '--gossip-addr', `${host}:${ports.gossip}`,
    '--grpc-addr', `${host}:${ports.grpc}`,
    '--http-addr', `${host}:${ports.http}`,
    '--ops-addr', `${host}:${ports.ops}`,
    '--advertise-host', a.advertiseHost,
    '--app-addr', `${host}:${ports.app}`,
    '--profile', a.profile,
    ...(a.shards === null ? [] : ['--shards', String(a.shards)]),
    ...(a.seeds.length > 0 ? ['--seeds', a.seeds.join(',')] : []),
    ...(a.extraArgs ?? []),
  ];
}

export class AgentProcess {
  readonly logs: string[] = [];
  readonly child: ChildProcess;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;

  /** Runs `command args` with `env` added to this process's environment, keeping the last `keepLines` log lines. */
  constructor(command: string, args: readonly string[], env: Readonly<Record<string, string>>, keepLines: number) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString().split('\n')) if (line) this.logs.push(line);
      if (this.logs.length > keepLines) this.logs.splice(0, this.logs.length - keepLines);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      this.exitCode = code as number | null;
      this.exitSignal = signal as NodeJS.Signals | null;
    });
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running && this.child.pid !== undefined) process.kill(this.child.pid, sig);
  }
}
