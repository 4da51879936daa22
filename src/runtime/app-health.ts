// Checks the co-located app the way kubelet probes a container: every interval, an HTTP GET (2xx = ready)
// or a TCP connect, each bounded by a timeout; `failureThreshold` failures in a row make it unready and
// `successThreshold` successes in a row make it ready again, so a flapping app does not flap ownership.
import type { Logger } from 'pino';
import { connect } from 'node:net';

export type AppHealthTarget =
  | { readonly kind: 'http'; readonly url: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

export interface AppHealthOptions {
  readonly target: AppHealthTarget;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
  /** Called when the debounced readiness flips; `reason` says what the last check saw. */
  readonly onChange: (ready: boolean, reason: string) => void;
}

export class AppHealthChecker {
  private ready = false;
  private successes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastReason = 'not checked yet';
  checks = 0;

  constructor(private readonly opts: AppHealthOptions) {}

  /** The app starts unready: it owns nothing until it has passed `successThreshold` checks. */
  isReady(): boolean {
    return this.ready;
  }

  reason(): string {
    return this.lastReason;
  }

  start(): void {
    this.stopped = false;
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    const problem = await probe(this.opts.target, this.opts.timeoutMs);
    if (this.stopped) return;
    this.checks++;
    this.record(problem);
    const wait = Math.max(0, this.opts.intervalMs - (Date.now() - started));
    this.timer = setTimeout(() => void this.loop(), wait);
    this.timer.unref();
  }

  /** One check's outcome: null when the app answered ready, else why not. */
  record(problem: string | null): void {
    if (problem === null) {
      this.successes++;
      this.failures = 0;
      this.lastReason = 'ready';
      if (!this.ready && this.successes >= this.opts.successThreshold) {
        this.ready = true;
        this.opts.onChange(true, 'ready');
      }
    } else {
      this.failures++;
      this.successes = 0;
      this.lastReason = problem;
      if (this.ready && this.failures >= this.opts.failureThreshold) {
        this.ready = false;
        this.opts.onChange(false, problem);
      }
    }
  }
}

async function probe(target: AppHealthTarget, timeoutMs: number): Promise<string | null> {
  if (target.kind === 'http') {
    try {
      const res = await fetch(target.url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await res.body?.cancel();
      return res.status >= 200 && res.status < 300 ? null : `${target.url} answered ${res.status}`;
    } catch (err) {
      return `${target.url}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`;
    }
  }
  return new Promise<string | null>((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const done = (problem: string | null): void => {
      socket.destroy();
      clearTimeout(timer);
      resolve(problem);
    };
    const timer = setTimeout(() => done(`tcp://${target.host}:${target.port}: no connection within ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(null));
    socket.once('error', (err) => done(`tcp://${target.host}:${target.port}: ${err.message}`));
  });
}

/** Starts checking the app; every change of its readiness is logged and handed to `onReady`. */
export function startAppChecker(target: AppHealthTarget, check: Omit<AppHealthOptions, 'target' | 'onChange'>, logger: Logger, onReady: (ready: boolean) => void): AppHealthChecker {
  const app = target.kind === 'http' ? target.url : `tcp://${target.host}:${target.port}`;
  const checker = new AppHealthChecker({
    target,
    ...check,
    onChange: (ready, reason) => {
      logger.info({ app, ready, reason }, 'app readiness changed');
      onReady(ready);
    },
  });
  checker.start();
  return checker;
}
