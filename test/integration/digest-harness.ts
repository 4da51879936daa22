// Helpers shared by the digest and watch integration tests: sidecars on 127.0.0.80-89 (engineer E's
// block), a control-plane client, and nftables rules that cut incoming gRPC to one member.
import { execFileSync } from 'node:child_process';
import { Cluster, randomPortBase } from './harness.js';

export const HOST_BASE = 80;
const NFT_TABLE = 'swimring_test_digest';

/** The digest and watch tests' members: e-node-i on 127.0.0.(80 + i), 4,096 shards. */
export class DigestCluster extends Cluster {
  constructor(portBase = randomPortBase()) {
    super(portBase, { hostBase: HOST_BASE, namePrefix: 'e-node', shards: 4096 });
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
