// N agents of one system on 127.0.0.10.. with agent 0 as the seed. Every agent's log is parsed into
// timestamped events; each agent's membership view is rebuilt from them so the bench can wait on
// "every member sees X" without polling the agents (which would itself load a 2-core machine).
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentProcess } from './proc.js';
import type { LogEvent, SystemDriver, ViewState } from './systems.js';

export const FIRST_HOST = 10;

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
  /** Every parsed event in arrival order; scenarios slice it by time. */
  readonly events: ObservedEvent[] = [];

  constructor(
    readonly driver: SystemDriver,
    readonly n: number,
    private readonly logDir: string | null = null,
  ) {
    this.names = Array.from({ length: n }, (_, i) => `${driver.name}-${i}`);
    this.hosts = Array.from({ length: n }, (_, i) => `127.0.0.${FIRST_HOST + i}`);
  }

  get range(): string {
    return `${this.hosts[0]}-${this.hosts[this.hosts.length - 1]}`;
  }

  agent(i: number): AgentProcess {
    const a = this.agents.get(this.names[i]!);
    if (!a) throw new Error(`agent ${i} not started`);
    return a;
  }

  liveNames(): string[] {
    return this.names.filter((name) => this.agents.get(name)?.running === true);
  }

  start(i: number): AgentProcess {
    const name = this.names[i]!;
    const spec = { name, host: this.hosts[i]!, seedHost: i === 0 ? null : this.hosts[0]! };
    const { command, args, env } = this.driver.command(spec);
    this.views.set(name, new Map());
    this.runningAt.delete(name);
    const logPath = this.logDir ? `${this.logDir}/${this.driver.name}-n${this.n}-${name}.log` : null;
    const proc = new AgentProcess(
      name,
      command,
      args,
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
