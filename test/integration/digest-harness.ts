// Helpers shared by the digest and watch integration tests: sidecars on 127.0.0.80-89 (engineer E's
// block), a control-plane client, and nftables rules that cut incoming gRPC to one member.
import { execFileSync } from 'node:child_process';
import { SidecarProcess, randomPortBase, type NodeSpec } from './harness.js';

export const HOST_BASE = 80;
const NFT_TABLE = 'swimring_test_digest';

export class DigestCluster {
  readonly nodes: SidecarProcess[] = [];
  constructor(readonly portBase = randomPortBase()) {}

  host(i: number): string {
    return `127.0.0.${HOST_BASE + i}`;
  }

  spec(i: number, extraArgs: readonly string[] = [], overrides: Partial<NodeSpec> = {}): NodeSpec {
    return {
      name: `e-node-${i}`,
      host: this.host(i),
      portBase: this.portBase,
      seeds: i === 0 ? [] : [`${this.host(0)}:${this.portBase + 1}`],
      shards: 4096,
      extraArgs,
      ...overrides,
    };
  }

  start(spec: NodeSpec): SidecarProcess {
    const p = new SidecarProcess(spec);
    this.nodes.push(p);
    return p;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  dumpLogs(lines = 30): string {
    return this.nodes.map((n) => `--- ${n.name}\n${n.logs.slice(-lines).join('\n')}`).join('\n');
  }
}

/** Why nftables cannot be used here, or undefined; under CI (which installs nftables) an error instead. */
export function nftSkipReason(): string | undefined {
  try {
    execFileSync('nft', ['list', 'tables'], { stdio: 'pipe', timeout: 5000 });
    return undefined;
  } catch (err) {
    const reason = `nftables not usable here (${err instanceof Error ? err.message : String(err)})`;
    if (process.env['CI']) throw new Error(`the digest repair test must run in CI: ${reason}`);
    return reason;
  }
}

/** Drops every TCP packet to host:port (incoming gRPC of one member); UDP (SWIM) still flows. */
export function blockIncomingTcp(host: string, port: number): void {
  unblock();
  const script = [
    `table inet ${NFT_TABLE} {`,
    '  chain out {',
    '    type filter hook output priority 0; policy accept;',
    `    ip daddr ${host} tcp dport ${port} drop`,
    '  }',
    '}',
  ].join('\n');
  execFileSync('nft', ['-f', '-'], { input: script + '\n', stdio: ['pipe', 'pipe', 'pipe'], timeout: 5000 });
}

export function unblock(): void {
  try {
    execFileSync('nft', ['delete', 'table', 'inet', NFT_TABLE], { stdio: 'pipe', timeout: 5000 });
  } catch {
    // not there
  }
}
