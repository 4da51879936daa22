// The raw results file: one entry per (system, N, scenario), appended as each phase finishes so a run cut
// short still leaves everything measured so far.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { ColdStartResult, CrashRep, IdleResult, LeaveRep, LossResult } from './scenarios.js';
import type { SystemName } from './systems.js';

export type Entry = { readonly system: SystemName; readonly n: number } & (
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
