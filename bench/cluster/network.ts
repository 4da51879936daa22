// Where the agents of one run live and how their traffic is counted and dropped. Loopback: 127.0.0.10..
// on the host, host nftables. Namespaces: one network namespace per agent on a bridge, built by the host
// tests' Lab (test/hosts/netns.ts), with counters and loss rules inside each agent's own namespace, so
// every agent's TCP is counted as its own and loss is an ingress drop on each agent's interface.
import { Lab, SUBNET, run as runCommand } from '../../test/hosts/netns.js';
import { installCounters, installLoss, readCounters, removeCounters, removeLoss, type Traffic } from './nft.js';
import { GOSSIP_PORT } from './systems.js';

export type NetKind = 'loopback' | 'netns';

export interface AgentTraffic {
  readonly udpBytes: number[];
  readonly udpPackets: number[];
  /** Per agent where the network can tell (namespaces); null on loopback (see nft.ts). */
  readonly tcpBytes: number[] | null;
  readonly tcpPackets: number[] | null;
  /** Whole-cluster TCP on the systems' own ports. */
  readonly tcpBytesTotal: number;
  readonly tcpPacketsTotal: number;
}

export interface Network {
  readonly kind: NetKind;
  readonly size: number;
  readonly hosts: readonly string[];
  /** True when every agent's outgoing TCP leaves from one shared address (loopback), not its own. */
  readonly sharedTcpSource: boolean;
  /** Wraps an agent's command so it runs in agent i's place; the returned PID must be the agent's own. */
  wrap(i: number, command: string, args: readonly string[]): { command: string; args: string[] };
  installCounters(tcpPorts: readonly number[]): Promise<void>;
  readCounters(): Promise<AgentTraffic>;
  removeCounters(): Promise<void>;
  /** Drops `percent`% of the gossip packets (UDP and the systems' TCP) arriving at every agent. */
  installLoss(tcpPorts: readonly number[], percent: number): Promise<void>;
  removeLoss(): Promise<void>;
  /** Synchronous so exit handlers can use it. */
  destroySync(): void;
}

export const FIRST_LOOPBACK_HOST = 10;

export class LoopbackNetwork implements Network {
  readonly kind = 'loopback';
  readonly sharedTcpSource = true;
  readonly hosts: readonly string[];

  constructor(readonly size: number) {
    this.hosts = Array.from({ length: size }, (_, i) => `127.0.0.${FIRST_LOOPBACK_HOST + i}`);
  }

  private get range(): string {
    return `${this.hosts[0]}-${this.hosts[this.hosts.length - 1]}`;
  }

  wrap(_i: number, command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command, args: [...args] };
  }

  async installCounters(tcpPorts: readonly number[]): Promise<void> {
    installCounters(this.hosts, this.range, tcpPorts);
  }

  async readCounters(): Promise<AgentTraffic> {
    const t: Traffic = readCounters(this.hosts);
    return {
      udpBytes: this.hosts.map((h) => t.udpBytes.get(h) ?? 0),
      udpPackets: this.hosts.map((h) => t.udpPackets.get(h) ?? 0),
      tcpBytes: null,
      tcpPackets: null,
      tcpBytesTotal: t.tcpBytes,
      tcpPacketsTotal: t.tcpPackets,
    };
  }

  async removeCounters(): Promise<void> {
    removeCounters();
  }

  async installLoss(tcpPorts: readonly number[], percent: number): Promise<void> {
    installLoss(this.range, tcpPorts, percent);
  }

  async removeLoss(): Promise<void> {
    removeLoss();
  }

  destroySync(): void {
    removeCounters();
    removeLoss();
  }
}

const NS_COUNT_TABLE = 'swimring_bench_count';
const NS_LOSS_TABLE = 'swimring_bench_loss';

interface NftCounter {
  readonly name: string;
  readonly packets: number;
  readonly bytes: number;
}

/** One namespace per agent (10.213.7.1..N), all on one bridge in a hub namespace; no link delay added. */
export class NamespaceNetwork implements Network {
  readonly kind = 'netns';
  readonly sharedTcpSource = false;
  readonly hosts: readonly string[];
  private readonly lab = new Lab();

  private constructor(readonly size: number) {
    this.hosts = Array.from({ length: size }, (_, i) => `${SUBNET}.${i + 1}`);
  }

  static async create(size: number): Promise<NamespaceNetwork> {
    const net = new NamespaceNetwork(size);
    try {
      await net.lab.create(size);
    } catch (err) {
      net.destroySync();
      throw err;
    }
    return net;
  }

  /** `ip netns exec` execs the command in place, so the child's PID is the agent's own. */
  wrap(i: number, command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: 'ip', args: ['netns', 'exec', this.lab.memberNs(i), command, ...args] };
  }

  private nftIn(i: number, script: string): Promise<string> {
    return runCommand('ip', ['netns', 'exec', this.lab.memberNs(i), 'nft', '-f', '-'], script);
  }

  private async nftArgsIn(i: number, args: readonly string[]): Promise<string> {
    return runCommand('ip', ['netns', 'exec', this.lab.memberNs(i), 'nft', ...args]);
  }

  private async dropTableIn(i: number, family: string, table: string): Promise<void> {
    try {
      await this.nftArgsIn(i, ['delete', 'table', family, table]);
    } catch {
      // not there: nothing to remove
    }
  }

  /** Installs `script` in every agent's namespace, replacing `table` there if a run left one behind. */
  private async replaceTableEverywhere(family: string, table: string, script: string): Promise<void> {
    await Promise.all(this.hosts.map(async (_, i) => {
      await this.dropTableIn(i, family, table);
      await this.nftIn(i, script);
    }));
  }

  private async dropTableEverywhere(family: string, table: string): Promise<void> {
    await Promise.all(this.hosts.map((_, i) => this.dropTableIn(i, family, table)));
  }

  /** Counts what each agent sends, in its own namespace's output hook: UDP from the gossip port, TCP on the systems' ports. */
  async installCounters(tcpPorts: readonly number[]): Promise<void> {
    const ports = `{ ${tcpPorts.join(', ')} }`;
    const script = [
      `table inet ${NS_COUNT_TABLE} {`,
      '  counter udp_out { }',
      '  counter tcp_out { }',
      '  chain out {',
      '    type filter hook output priority 0; policy accept;',
      `    udp sport ${GOSSIP_PORT} counter name "udp_out"`,
      `    tcp sport ${ports} counter name "tcp_out"`,
      `    tcp sport != ${ports} tcp dport ${ports} counter name "tcp_out"`,
      '  }',
      '}',
      '',
    ].join('\n');
    await this.replaceTableEverywhere('inet', NS_COUNT_TABLE, script);
  }

  async readCounters(): Promise<AgentTraffic> {
    const per = await Promise.all(this.hosts.map(async (_, i) => {
      const out = JSON.parse(await this.nftArgsIn(i, ['-j', 'list', 'counters', 'table', 'inet', NS_COUNT_TABLE])) as { nftables?: unknown[] };
      const byName = new Map<string, NftCounter>();
      for (const item of out.nftables ?? []) {
        const c = (item as { counter?: NftCounter }).counter;
        if (c && typeof c.name === 'string') byName.set(c.name, c);
      }
      return { udp: byName.get('udp_out'), tcp: byName.get('tcp_out') };
    }));
    const tcpBytes = per.map((p) => p.tcp?.bytes ?? 0);
    const tcpPackets = per.map((p) => p.tcp?.packets ?? 0);
    return {
      udpBytes: per.map((p) => p.udp?.bytes ?? 0),
      udpPackets: per.map((p) => p.udp?.packets ?? 0),
      tcpBytes,
      tcpPackets,
      tcpBytesTotal: tcpBytes.reduce((a, b) => a + b, 0),
      tcpPacketsTotal: tcpPackets.reduce((a, b) => a + b, 0),
    };
  }

  async removeCounters(): Promise<void> {
    await this.dropTableEverywhere('inet', NS_COUNT_TABLE);
  }

  /**
   * Drops on the netdev ingress of each agent's eth0 (silent loss; an output drop would make send() fail).
   * Only IPv4 gossip packets: ARP is left alone so the loss is the same kind as on loopback.
   */
  async installLoss(tcpPorts: readonly number[], percent: number): Promise<void> {
    const ports = `{ ${tcpPorts.join(', ')} }`;
    const drop = `numgen random mod 100 < ${Math.round(percent)} drop`;
    const script = [
      `table netdev ${NS_LOSS_TABLE} {`,
      '  chain ingress_loss {',
      '    type filter hook ingress device "eth0" priority 0; policy accept;',
      `    meta protocol ip udp dport ${GOSSIP_PORT} ${drop}`,
      `    meta protocol ip tcp dport ${ports} ${drop}`,
      `    meta protocol ip tcp sport ${ports} ${drop}`,
      '  }',
      '}',
      '',
    ].join('\n');
    await this.replaceTableEverywhere('netdev', NS_LOSS_TABLE, script);
  }

  async removeLoss(): Promise<void> {
    await this.dropTableEverywhere('netdev', NS_LOSS_TABLE);
  }

  /** Removes every namespace (and with them every veth, bridge and nft table), killing what is left inside by PID. */
  destroySync(): void {
    this.lab.destroySync();
  }
}
