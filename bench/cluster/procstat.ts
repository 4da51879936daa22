// RSS and CPU time of one process from /proc (Linux). CPU is user+system ticks at 100 Hz.
import { readFileSync } from 'node:fs';

const CLK_TCK = 100;

export interface ProcSample {
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

export function procSample(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return { cpuSeconds: ticks / CLK_TCK, rssBytes: rssKb * 1024 };
  } catch {
    return null;
  }
}
