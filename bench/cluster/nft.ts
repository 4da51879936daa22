// nftables helpers: per-agent packet/byte counters and random packet loss on the cluster's loopback
// addresses. Both systems are counted by the same rules. Tables are created and deleted here only.
import { execFileSync } from 'node:child_process';
import { GOSSIP_PORT } from './systems.js';

const COUNT_TABLE = 'swimring_bench_count';
const LOSS_TABLE = 'swimring_bench_loss';
const TCP_COUNTER = 'tcp_all';

function nft(script: string): string {
  return execFileSync('nft', ['-f', '-'], { input: script, encoding: 'utf8', timeout: 10_000, stdio: ['pipe', 'pipe', 'pipe'] });
}

function nftArgs(args: readonly string[]): string {
  return execFileSync('nft', args, { encoding: 'utf8', timeout: 10_000, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function nftAvailable(): boolean {
  try {
    nftArgs(['list', 'tables']);
    return true;
  } catch {
    return false;
  }
}

const counterName = (host: string): string => `udp_${host.replaceAll('.', '_')}`;

export interface Traffic {
  readonly udpBytes: ReadonlyMap<string, number>;
  readonly udpPackets: ReadonlyMap<string, number>;
  readonly tcpBytes: number;
  readonly tcpPackets: number;
}

/**
 * UDP is counted per agent by source address and gossip port. TCP clients on loopback leave from
 * 127.0.0.1 whatever agent opened them, so TCP is counted for the whole cluster by port and shared out.
 */
export function installCounters(hosts: readonly string[], range: string, tcpPorts: readonly number[]): void {
  removeTable(COUNT_TABLE);
  const ports = `{ ${tcpPorts.join(', ')} }`;
  const lines = [
    `table inet ${COUNT_TABLE} {`,
    ...hosts.map((h) => `  counter ${counterName(h)} { }`),
    `  counter ${TCP_COUNTER} { }`,
    '  chain out {',
    '    type filter hook output priority 0; policy accept;',
    ...hosts.map((h) => `    ip saddr ${h} udp sport ${GOSSIP_PORT} counter name "${counterName(h)}"`),
    `    ip daddr ${range} tcp dport ${ports} counter name "${TCP_COUNTER}"`,
    `    ip saddr ${range} tcp sport ${ports} counter name "${TCP_COUNTER}"`,
    '  }',
    '}',
  ];
  nft(lines.join('\n') + '\n');
}

interface NftCounter {
  readonly name: string;
  readonly packets: number;
  readonly bytes: number;
}

function readCountersRaw(): NftCounter[] {
  const out = JSON.parse(nftArgs(['-j', 'list', 'counters', 'table', 'inet', COUNT_TABLE])) as { nftables?: unknown[] };
  const found: NftCounter[] = [];
  for (const item of out.nftables ?? []) {
    const c = (item as { counter?: NftCounter }).counter;
    if (c && typeof c.name === 'string') found.push(c);
  }
  return found;
}

export function readCounters(hosts: readonly string[]): Traffic {
  const byName = new Map(readCountersRaw().map((c) => [c.name, c]));
  const udpBytes = new Map<string, number>();
  const udpPackets = new Map<string, number>();
  for (const h of hosts) {
    const c = byName.get(counterName(h));
    udpBytes.set(h, c?.bytes ?? 0);
    udpPackets.set(h, c?.packets ?? 0);
  }
  const tcp = byName.get(TCP_COUNTER);
  return { udpBytes, udpPackets, tcpBytes: tcp?.bytes ?? 0, tcpPackets: tcp?.packets ?? 0 };
}

export function removeCounters(): void {
  removeTable(COUNT_TABLE);
}

/** Drops `percent`% of gossip packets (UDP and the systems' TCP) arriving at the cluster's addresses. */
export function installLoss(range: string, tcpPorts: readonly number[], percent: number): void {
  removeTable(LOSS_TABLE);
  const ports = `{ ${tcpPorts.join(', ')} }`;
  const drop = `numgen random mod 100 < ${Math.round(percent)} drop`;
  nft(
    [
      `table inet ${LOSS_TABLE} {`,
      '  chain in {',
      '    type filter hook input priority -10; policy accept;',
      `    ip daddr ${range} udp dport ${GOSSIP_PORT} ${drop}`,
      `    ip daddr ${range} tcp dport ${ports} ${drop}`,
      `    ip saddr ${range} tcp sport ${ports} ${drop}`,
      '  }',
      '}',
    ].join('\n') + '\n',
  );
}

export function removeLoss(): void {
  removeTable(LOSS_TABLE);
}

function removeTable(name: string): void {
  try {
    nftArgs(['delete', 'table', 'inet', name]);
  } catch {
    // not there: nothing to remove
  }
}

export function removeAllTables(): void {
  removeTable(COUNT_TABLE);
  removeTable(LOSS_TABLE);
}
