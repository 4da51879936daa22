// The network under the host tests: one namespace per member, each with one veth ("eth0") whose other
// end ("m<i>") is a port of bridge br0 in a hub namespace. Every name carries a per-run prefix
// (sr<pid>), so parallel runs never collide and a crashed run's leftovers can be recognised and removed.
// Fault tools: link down/up, a bridge filter for splits, and nftables netdev ingress rules for loss.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Every address lives in this /24, and only inside the run's namespaces. */
export const SUBNET = '10.213.7';
export const HUB_ADDR = `${SUBNET}.254`;

const NAMESPACE_PATTERN = /^sr(\d+)-(hub|m\d+)$/;

/**
 * Why host tests cannot run here, or undefined when they can. Under CI (CI set, as .ci/run is run) a
 * reason is an error instead: CI runs as root and installs what these tests need, so a skip there would
 * hide a broken install.
 */
export function hostsSkipReason(): string | undefined {
  const reason = whyHostsCannotRun();
  if (reason && process.env['CI']) throw new Error(`host tests must run in CI: ${reason}`);
  return reason;
}

function whyHostsCannotRun(): string | undefined {
  if (process.platform !== 'linux') return 'host tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'host tests need root (network namespaces, veth pairs, nftables)';
  if (spawnSync('ip', ['-V']).error) return 'host tests need `ip` (Debian package iproute2); .ci/run installs it';
  if (spawnSync('nft', ['-v']).error) return 'host tests need `nft` (Debian package nftables); .ci/run installs it';
  const probe = `sr${process.pid}-probe`;
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (made.status !== 0) return `cannot create a network namespace here: ${made.stderr.trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

export async function run(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const child = execFileAsync(cmd, [...args], { timeout: 15_000, encoding: 'utf8' });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listNamespaces(): string[] {
  const res = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (res.stdout ?? '').split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

/** Kills every process left inside a namespace (by PID) and deletes it; synchronous so signal handlers can use it. */
function removeNamespaceSync(ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  for (const p of (pids.stdout ?? '').split('\n')) {
    const pid = Number(p);
    if (Number.isInteger(pid) && pid > 1) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  spawnSync('ip', ['netns', 'del', ns]);
}

/** Namespaces from an earlier run of this harness whose process no longer exists. */
export function removeStaleNamespaces(): string[] {
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const m = NAMESPACE_PATTERN.exec(ns);
    if (!m) continue;
    const owner = Number(m[1]);
    if (owner === process.pid || pidAlive(owner)) continue;
    removeNamespaceSync(ns);
    removed.push(ns);
  }
  return removed;
}

export class Lab {
  readonly prefix = `sr${process.pid}`;
  readonly hub = `${this.prefix}-hub`;
  private readonly made: string[] = [];
  private readonly lossTables = new Set<string>();
  private splitActive = false;

  memberNs(i: number): string {
    return `${this.prefix}-m${i}`;
  }

  /** Hub-side port of member i (its ingress carries the packets the member sends). */
  port(i: number): string {
    return `m${i}`;
  }

  async create(members: number): Promise<void> {
    await run('ip', ['netns', 'add', this.hub]);
    this.made.push(this.hub);
    const hubCmds = [
      'link set lo up',
      'link add br0 type bridge',
      `addr add ${HUB_ADDR}/24 dev br0`,
      'link set br0 up',
    ];
    await run('ip', ['-n', this.hub, '-batch', '-'], hubCmds.join('\n') + '\n');
    for (let i = 0; i < members; i++) {
      const ns = this.memberNs(i);
      await run('ip', ['netns', 'add', ns]);
      this.made.push(ns);
      await run('ip', ['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', this.port(i), 'netns', this.hub]);
      await run('ip', ['-n', this.hub, '-batch', '-'], `link set ${this.port(i)} master br0\nlink set ${this.port(i)} up\n`);
      await run('ip', ['-n', ns, '-batch', '-'], `link set lo up\naddr add ${SUBNET}.${i + 1}/24 dev eth0\nlink set eth0 up\n`);
    }
  }

  /** An extra address on the hub's bridge (a delay relay listens there). */
  async addHubAddress(host: string): Promise<void> {
    await run('ip', ['-n', this.hub, 'addr', 'add', `${host}/24`, 'dev', 'br0']);
  }

  /** Gives member i's namespace a new address (a pod rescheduled with a new IP). */
  async readdress(i: number, host: string): Promise<void> {
    await run('ip', ['-n', this.memberNs(i), '-batch', '-'], `addr flush dev eth0\naddr add ${host}/24 dev eth0\n`);
  }

  async linkDown(i: number): Promise<void> {
    await run('ip', ['-n', this.hub, 'link', 'set', this.port(i), 'down']);
  }

  async linkUp(i: number): Promise<void> {
    await run('ip', ['-n', this.hub, 'link', 'set', this.port(i), 'up']);
  }

  /**
   * Splits the bridge in two: frames between a port of `side` and any other port are dropped in the
   * bridge's forward hook. The hub itself still reaches every member, so both sides stay observable.
   */
  async split(side: readonly number[]): Promise<void> {
    const ports = side.map((i) => `"${this.port(i)}"`).join(', ');
    await run('ip', ['netns', 'exec', this.hub, 'nft', '-f', '-'], [
      'table bridge swimring_split {',
      `  set side_a { type ifname; elements = { ${ports} }; }`,
      '  chain forward_split {',
      '    type filter hook forward priority 0; policy accept;',
      '    iifname @side_a oifname != @side_a drop',
      '    iifname != @side_a oifname @side_a drop',
      '  }',
      '}',
      '',
    ].join('\n'));
    this.splitActive = true;
  }

  async heal(): Promise<void> {
    if (!this.splitActive) return;
    await run('ip', ['netns', 'exec', this.hub, 'nft', 'delete', 'table', 'bridge', 'swimring_split']);
    this.splitActive = false;
  }

  /**
   * Drops `percent`% of the packets arriving at member i (netdev ingress of its eth0): loss towards it.
   * Dropping on ingress loses packets silently; an output-hook drop would make send() fail with EPERM.
   */
  async lossInbound(i: number, percent: number): Promise<void> {
    await this.ingressDrop(this.memberNs(i), 'eth0', percent);
  }

  /** Drops `percent`% of the packets member i sends: the ingress of its hub-side port. */
  async lossOutbound(i: number, percent: number): Promise<void> {
    await this.ingressDrop(this.hub, this.port(i), percent);
  }

  private async ingressDrop(ns: string, device: string, percent: number): Promise<void> {
    const table = `swimring_loss_${device}`;
    const rule = percent >= 100 ? 'drop' : `numgen random mod 100 < ${Math.round(percent)} drop`;
    await run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], [
      `table netdev ${table} {`,
      '  chain ingress_loss {',
      `    type filter hook ingress device "${device}" priority 0; policy accept;`,
      `    ${rule}`,
      '  }',
      '}',
      '',
    ].join('\n'));
    this.lossTables.add(`${ns} ${table}`);
  }

  async clearLoss(): Promise<void> {
    for (const entry of [...this.lossTables]) {
      const [ns, table] = entry.split(' ') as [string, string];
      await run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'netdev', table]);
      this.lossTables.delete(entry);
    }
  }

  /** Undoes every fault: split, loss rules, downed links (after a failed scenario, for the next one). */
  async restore(members: number): Promise<void> {
    await this.heal();
    await this.clearLoss();
    for (let i = 0; i < members; i++) await this.linkUp(i);
  }

  /** Removes every namespace this run made (and with them every veth, bridge and nft table). */
  destroySync(): void {
    for (const ns of this.made.splice(0).reverse()) removeNamespaceSync(ns);
  }
}
