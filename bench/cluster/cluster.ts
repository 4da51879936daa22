// N agents of one system on one Network (loopback or namespaces) with agent 0 as the seed. Every agent's log is parsed into
// timestamped events; each agent's membership view is rebuilt from them so the bench can wait on
// "every member sees X" without polling the agents (which would itself load a 2-core machine).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Network } from './network.js';
import { AgentProcess } from './proc.js';
import type { AgentOptions, LogEvent, SystemDriver, ViewState } from './systems.js';

export interface ObservedEvent {
  readonly observer: string;
  readonly event: LogEvent;
}

export class ClusterUnderTest {
  readonly names: readonly string[];
  readonly hosts: readonly string[];
  private readonly agents = new Map<string, AgentProcess>();
  private readonly views = new Map<string, Map<string, ViewState>>();
  private readonly runningAt = new Map<string, number>();
  /** Owners in each agent's latest ownership table (swimring only). */
  private readonly tableOwners = new Map<string, number>();
  /** Settings each agent was last started with; a restart keeps them unless told otherwise. */
  private readonly options = new Map<number, AgentOptions>();
  readonly n: number;
  /** Every parsed event in arrival order; scenarios slice it by time. */
  readonly events: ObservedEvent[] = [];

  constructor(
    readonly driver: SystemDriver,
    readonly net: Network,
    private readonly logDir: string | null = null,
  ) {
    this.n = net.size;
    this.names = Array.from({ length: this.n }, (_, i) => `${driver.name}-${i}`);
    this.hosts = net.hosts;
  }

  agent(i: number): AgentProcess {
    const a = this.agents.get(this.names[i]!);
    if (!a) throw new Error(`agent ${i} not started`);
    return a;
  }

  liveNames(): string[] {
    return this.names.filter((name) => this.agents.get(name)?.running === true);
  }

  start(i: number, options?: AgentOptions): AgentProcess {
    const name = this.names[i]!;
    if (options) this.options.set(i, options);
    const spec = { name, host: this.hosts[i]!, seedHost: i === 0 ? null : this.hosts[0]!, options: this.options.get(i) ?? {}, sharedTcpSource: this.net.sharedTcpSource };
    const { command, args, env } = this.driver.command(spec);
    const placed = this.net.wrap(i, command, args);
    this.views.set(name, new Map());
    this.runningAt.delete(name);
    this.tableOwners.delete(name);
    const logPath = this.logDir ? `${this.logDir}/${this.driver.name}-${this.net.kind}-n${this.n}-${name}.log` : null;
    const proc = new AgentProcess(
      name,
      placed.command,
      placed.args,
      env,
      (line) => {
        const event = this.driver.parse(line.text, line.at);
        if (event) this.apply(name, event);
      },
      logPath,
    );
    this.agents.set(name, proc);
    return proc;
  }

  private apply(observer: string, event: LogEvent): void {
    if ('subject' in event && event.subject === observer) return;
    this.events.push({ observer, event });
    const view = this.views.get(observer);
    if (!view) return;
    if (event.kind === 'view') view.set(event.subject, event.state);
    else if (event.kind === 'reaped') view.delete(event.subject);
    else if (event.kind === 'running') this.runningAt.set(observer, event.at);
    else if (event.kind === 'table') this.tableOwners.set(observer, event.owners);
  }

  isRunning(i: number): boolean {
    return this.runningAt.has(this.names[i]!);
  }

  upAt(i: number): number | undefined {
    return this.runningAt.get(this.names[i]!);
  }

  /** True when `observer` holds every other current member as alive or suspect. */
  viewComplete(observer: string): boolean {
    const view = this.views.get(observer);
    if (!view) return false;
    for (const other of this.names) {
      if (other === observer) continue;
      const s = view.get(other);
      if (s !== 'alive' && s !== 'suspect') return false;
    }
    return true;
  }

  /**
   * Every agent's ownership table covers every member: the work a membership change triggers is done, so a
   * repetition does not start while the last one's rejoin is still being digested (always true for Serf).
   */
  tablesSettled(): boolean {
    if (!this.driver.hasTables) return true;
    return this.names.every((name) => this.tableOwners.get(name) === this.n);
  }

  allViewsComplete(): boolean {
    return this.names.every((name) => this.agents.get(name)?.running === true && this.viewComplete(name));
  }

  /** When each observer's view last became complete, from event times (not from polling). */
  completionTimes(since: number): Map<string, number> {
    const views = new Map<string, Map<string, ViewState>>();
    const done = new Map<string, number>();
    for (const { observer, event } of this.events) {
      if (event.kind !== 'view' && event.kind !== 'reaped') continue;
      let view = views.get(observer);
      if (!view) views.set(observer, (view = new Map()));
      if (event.kind === 'view') view.set(event.subject, event.state);
      else view.delete(event.subject);
      if (event.at < since) continue;
      const complete = this.names.every((o) => o === observer || view.get(o) === 'alive' || view.get(o) === 'suspect');
      if (complete && !done.has(observer)) done.set(observer, event.at);
      if (!complete) done.delete(observer);
    }
    return done;
  }

  async waitUntil(what: string, timeoutMs: number, check: () => boolean): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (check()) return true;
      await sleep(50);
    }
    console.error(`  ! timed out after ${timeoutMs} ms waiting for ${what}`);
    return false;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.stop('SIGKILL')));
  }

  dump(): string {
    return [...this.agents.values()].map((a) => `--- ${a.name}\n${a.tail.slice(-15).join('\n')}`).join('\n');
  }
}
