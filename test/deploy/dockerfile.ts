// A small reader for deploy/Dockerfile: instructions with their stage, continuation lines joined.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEPLOY } from './manifests.js';

export const DOCKERFILE = join(DEPLOY, 'Dockerfile');

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** Index of the FROM this instruction follows (-1 before the first). */
  readonly stage: number;
  readonly line: number;
}

export function readDockerfile(text = readFileSync(DOCKERFILE, 'utf8')): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  let stage = -1;
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      line = line.replace(/\\\s*$/, ' ') + next;
    }
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot read "${line}"`);
    const keyword = (m[1] ?? '').toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ keyword, args: (m[2] ?? '').trim(), stage, line: start + 1 });
  }
  return out;
}

/** The JSON (exec) form of CMD/ENTRYPOINT; the shell form would put sh between tini and node. */
export function execForm(inst: Instruction | undefined): string[] {
  if (!inst) return [];
  const v: unknown = JSON.parse(inst.args);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`line ${inst.line}: ${inst.keyword} is not in exec form`);
  return v as string[];
}

export interface Copy {
  readonly from: string | null;
  readonly sources: readonly string[];
  readonly dest: string;
  readonly stage: number;
}

export function copies(insts: readonly Instruction[]): Copy[] {
  return insts
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      let from: string | null = null;
      const rest: string[] = [];
      for (const w of words) {
        const m = /^--from=(.+)$/.exec(w);
        if (m) from = m[1] ?? null;
        else if (!w.startsWith('--')) rest.push(w);
      }
      const dest = rest.pop() ?? '';
      return { from, sources: rest, dest, stage: i.stage };
    });
}

/** Final stage's WORKDIR joined with a relative path, as the container sees it. */
export function finalPath(insts: readonly Instruction[], path: string): string {
  if (path.startsWith('/')) return path;
  const last = Math.max(...insts.map((i) => i.stage));
  const workdir = insts.filter((i) => i.stage === last && i.keyword === 'WORKDIR').pop()?.args ?? '/';
  return `${workdir.replace(/\/$/, '')}/${path.replace(/^\.\//, '')}`;
}
