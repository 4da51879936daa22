// What the scale bench checks before it starts N sidecars on a shared machine.
import { readFileSync } from 'node:fs';

/** Members get x.1 .. x.N of the harness's /24, below the addresses it keeps for itself. */
export const MAX_MEMBERS = 200;

/** MemAvailable from /proc/meminfo, in bytes. */
export function memAvailableBytes(meminfo = readFileSync('/proc/meminfo', 'utf8')): number {
  const kb = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo)?.[1];
  if (kb === undefined) throw new Error('no MemAvailable in /proc/meminfo');
  return Number(kb) * 1024;
}

/** Left free for the bench itself, the hub proxy and everything else on the machine. */
const HEADROOM_MIB = 2048;

/**
 * Why `members` agents of about `mibPerAgent` each do not fit in `availableBytes`, or null when they do.
 * Running out of memory mid-run would take the OOM killer to random sidecars (or other people's work).
 */
export function memoryShortfall(availableBytes: number, members: number, mibPerAgent: number): string | null {
  const needMib = members * mibPerAgent + HEADROOM_MIB;
  const haveMib = Math.floor(availableBytes / 2 ** 20);
  if (haveMib >= needMib) return null;
  return `not enough free memory for ${members} sidecars: ${haveMib} MiB available, ${needMib} MiB needed (${members} x ${mibPerAgent} MiB + ${HEADROOM_MIB} MiB headroom); run fewer --members or wait for a quieter machine`;
}
