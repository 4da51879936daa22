// The raw results file: one entry per (system, N, scenario), appended as each phase finishes so a run cut
// short still leaves everything measured so far.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { ColdStartResult, CrashRep, IdleResult, LeaveRep, LossResult } from './scenarios.js';
import type { NetKind } from './network.js';
import type { SystemName } from './systems.js';

export type Entry = {
  readonly system: SystemName;
  readonly n: number;
  /** Absent in files written before namespaces were added: loopback. */
  readonly net?: NetKind;
  /** A setting that differs from the system's default for this entry (e.g. swimring's drain), as a short label. */
  readonly variant?: string;
} & (
  | { readonly scenario: 'cold-start'; readonly data: ColdStartResult }
  | { readonly scenario: 'idle'; readonly data: IdleResult }
  | { readonly scenario: 'crash'; readonly data: CrashRep[] }
  | { readonly scenario: 'leave'; readonly data: LeaveRep[] }
  | { readonly scenario: 'loss'; readonly data: LossResult }
);

export interface ResultsFile {
  readonly meta: {
    readonly startedAt: string;
    finishedAt: string | null;
    readonly machine: string;
    readonly serfVersion: string;
    readonly swimringVersion: string;
    readonly quick: boolean;
    readonly loadAtStart: string;
    loadAtEnd?: string;
    /** When the code under test was copied from the working tree (the bench runs from a snapshot). */
    snapshotAt?: string;
    /** swimring's defaults as built (dist/config/options.js), for the report's wording. */
    swimringDefaults?: { readonly shards: string; readonly drainMs: string };
    /** Flags added to every swimring agent (`--swimring-args`); absent: its defaults. */
    swimringArgs?: string;
  };
  readonly entries: Entry[];
}

export function saveResults(path: string, results: ResultsFile): void {
  mkdirSync(new URL('.', `file://${path}`).pathname, { recursive: true });
  writeFileSync(path, JSON.stringify(results, null, 1) + '\n');
}

export function loadResults(path: string): ResultsFile {
  return JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
}

export const netOf = (e: Entry): NetKind => e.net ?? 'loopback';
