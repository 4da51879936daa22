// Times from the agents' own log lines instead of the harness's watch streams and polls: each agent
// stamps a line with Date.now() the moment its state changes, on the same clock as the harness, so
// these times leave out what the harness adds (the hub proxy, its own event loop, a poll's period),
// which the simulator has no counterpart for.

export interface LogEntry {
  readonly time: number;
  readonly msg: string;
  readonly member?: string;
  readonly to?: string;
  readonly owners?: number;
}

/** One agent's log lines, parsed (lines that are not JSON, or have no time and message, are skipped). */
export function parseLog(lines: readonly string[]): LogEntry[] {
  const out: LogEntry[] = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      const j = JSON.parse(line) as Partial<LogEntry>;
      if (typeof j.time === 'number' && typeof j.msg === 'string') out.push(j as LogEntry);
    } catch {
      // a line split by the pipe, or not the agent's
    }
  }
  return out;
}

export interface AgentLog {
  readonly name: string;
  readonly entries: readonly LogEntry[];
}

export interface ColdStartTimes {
  /** Per member name: when its member started (sockets bound, the join begins), ms on the harness clock. */
  readonly startedAt: Readonly<Record<string, number>>;
  /** The last member's start. */
  readonly lastStarted: number | null;
  /** When the last agent's view changed for the last time before one view: every member alive everywhere. */
  readonly membershipAt: number | null;
  /** When the last agent built the table it served at one view. */
  readonly tableAt: number | null;
}

const lastBefore = (entries: readonly LogEntry[], until: number, pick: (e: LogEntry) => boolean): number | null => {
  let at: number | null = null;
  for (const e of entries) if (e.time <= until && pick(e)) at = e.time;
  return at;
};

/**
 * The cold start's phases from the logs, given the moment one view was seen (`viewAt`): every agent's
 * view and table were final by then, so each agent's last membership change and last table build before
 * it are when that agent got there. Null where an agent's lines are missing.
 */
export function coldStartTimes(logs: readonly AgentLog[], viewAt: number): ColdStartTimes {
  const startedAt: Record<string, number> = {};
  let membershipAt: number | null = 0;
  let tableAt: number | null = 0;
  for (const { name, entries } of logs) {
    const started = entries.find((e) => e.msg === 'member started')?.time;
    if (started !== undefined) startedAt[name] = started;
    const changed = lastBefore(entries, viewAt, (e) => e.msg === 'membership change' && e.member !== name);
    const built = lastBefore(entries, viewAt, (e) => e.msg === 'ownership table rebuilt');
    membershipAt = changed === null || membershipAt === null ? null : Math.max(membershipAt, changed);
    tableAt = built === null || tableAt === null ? null : Math.max(tableAt, built);
  }
  const starts = Object.values(startedAt);
  return { startedAt, lastStarted: starts.length === logs.length && starts.length > 0 ? Math.max(...starts) : null, membershipAt, tableAt };
}

export interface DetectionTimes {
  /** Ms after `at` of the first observer's line moving `victim` to suspect, or null. */
  readonly firstSuspectMs: number | null;
  /** Ms after `at` of the first and the last observer's line moving `victim` to `state`; last null if one has none. */
  readonly firstMs: number | null;
  readonly lastMs: number | null;
  /** The victim's own line announcing its leave (leaves only), ms after `at`. */
  readonly announcedMs: number | null;
}

/** Crash or leave times from the observers' logs (every log but the victim's), after `at`. */
export function detectionTimes(logs: readonly AgentLog[], victim: string, at: number, state: 'dead' | 'left'): DetectionTimes {
  let firstSuspect: number | null = null;
  let first: number | null = null;
  let last: number | null = 0;
  let announced: number | null = null;
  for (const { name, entries } of logs) {
    if (name === victim) {
      announced = entries.find((e) => e.time >= at && e.msg === 'membership change' && e.member === victim && e.to === 'left')?.time ?? null;
      continue;
    }
    const mine = entries.filter((e) => e.time >= at && e.msg === 'membership change' && e.member === victim);
    const suspect = mine.find((e) => e.to === 'suspect')?.time;
    if (suspect !== undefined) firstSuspect = Math.min(firstSuspect ?? suspect, suspect);
    const seen = mine.find((e) => e.to === state)?.time;
    if (seen === undefined) last = null;
    else {
      first = Math.min(first ?? seen, seen);
      if (last !== null) last = Math.max(last, seen);
    }
  }
  const rel = (t: number | null): number | null => (t === null ? null : t - at);
  return { firstSuspectMs: rel(firstSuspect), firstMs: rel(first), lastMs: first === null ? null : rel(last), announcedMs: rel(announced) };
}
