// One agent process (swimring or Serf) started by the bench, with every output line stamped on arrival.
// Processes are ended only here and only by their own PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';

export interface StampedLine {
  readonly at: number;
  readonly text: string;
}

const live = new Set<AgentProcess>();

export class AgentProcess {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  readonly exited: Promise<void>;
  running = true;
  /** Recent lines only, for a failure dump; parsed events are kept elsewhere. */
  readonly tail: string[] = [];
  private partial = '';
  private readonly logFile: WriteStream | null;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    env: Record<string, string>,
    private readonly onLine: (line: StampedLine) => void,
    /** When given, every line is also appended here with its arrival time (ms since epoch). */
    logPath: string | null = null,
  ) {
    this.logFile = logPath ? createWriteStream(logPath, { flags: 'a' }) : null;
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    live.add(this);
    this.child.stdout?.on('data', (chunk: Buffer) => this.collect(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => this.collect(chunk));
    this.exited = once(this.child, 'exit').then(() => {
      this.running = false;
      this.logFile?.end();
      live.delete(this);
    });
    // A spawn failure (binary missing) surfaces as 'error'; the exit promise above still settles.
    this.child.on('error', () => {
      this.running = false;
      live.delete(this);
    });
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${this.name}: process did not start`);
    return pid;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running && this.child.pid !== undefined) process.kill(this.child.pid, sig);
  }

  /** Asks nicely first when `sig` is given, then SIGKILL after `graceMs`. */
  async stop(sig: NodeJS.Signals = 'SIGKILL', graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.signal(sig);
    if (sig === 'SIGKILL') return this.exited;
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private collect(chunk: Buffer): void {
    const at = Date.now();
    const text = this.partial + chunk.toString();
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      this.tail.push(line);
      this.logFile?.write(`${at} ${line}\n`);
      if (this.tail.length > 60) this.tail.shift();
      this.onLine({ at, text: line });
    }
  }
}

/** Last-resort cleanup on an abnormal exit of the bench: SIGKILL each process it started, by PID. */
export function killAllStarted(): void {
  for (const p of live) p.signal('SIGKILL');
}
