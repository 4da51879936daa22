// The members this member suspects, each with its Lifeguard suspicion (the accusers heard so far) and
// the timer that declares the member dead when it runs out. Membership decides when one starts or ends.
import type { CoreContext } from './context.js';
import type { SuspectUpdate } from './records.js';
import { expectedConfirmations, Suspicion, suspicionMinTimeout } from './suspicion.js';
import type { CoreTimer } from './timers.js';
import type { Millis } from './types.js';

/** A suspected member's Lifeguard timer. */
interface Suspected {
  readonly suspicion: Suspicion;
  timer: CoreTimer;
  /** A packet from the suspect itself already restarted this suspicion (it does so once). */
  readonly heardFrom: boolean;
  /** When we ping the suspect with the accusation (see reminderAt); null once done. */
  reminder: CoreTimer | null;
  /** The last reminder went out while we were deaf (see holdVerdict): it proves nothing if unanswered. */
  remindedDeaf: boolean;
  /** The verdict is held (holdVerdict): the timer waits for the last reminder's answer. */
  held: boolean;
}

/**
 * Buddy system at the last useful moment: one probe timeout before the suspicion runs out (the time
 * a probe gives an ack), we ping the suspect ourselves, carrying the accusation, so its ack (which
 * leads with the refutation) still arrives in time. Round-robin probing (stretched by Lifeguard's
 * awareness) may not reach the suspect before its timer runs out, and if we missed every copy of its
 * refutation (deaf while it spread) nothing else would tell us. As late as possible, so a deafness
 * during most of the suspicion does not waste it.
 */
function reminderAt(deadline: Millis, probeTimeoutMs: number): Millis {
  return deadline - probeTimeoutMs;
}

export class Suspicions {
  private readonly byName = new Map<string, Suspected>();

  constructor(private readonly ctx: CoreContext) {}

  /** Starts (or starts over) the suspicion `u` in a cluster of `live` members, replacing any running one. */
  start(u: SuspectUpdate, live: number, now: Millis, heardFrom = false): void {
    const { config, timers } = this.ctx;
    const min = suspicionMinTimeout(config.suspicionMult, live, config.probeIntervalMs);
    const max = config.suspicionMaxTimeoutMult * min;
    const k = expectedConfirmations(config.suspicionMult, live);
    const suspicion = new Suspicion(u.incarnation, now, u.from, k, min, max);
    this.end(u.name);
    const deadline = suspicion.deadline();
    const reminder = timers.schedule('suspect-reminder', Math.max(now, reminderAt(deadline, config.probeTimeoutMs)), u.name);
    this.byName.set(u.name, { suspicion, timer: timers.schedule('suspicion', deadline, u.name), heardFrom, reminder, remindedDeaf: false, held: false });
  }

  /** Lifeguard: an independent accuser shortens the timer. True when `u` came from one not heard yet. */
  confirm(u: SuspectUpdate): boolean {
    const current = this.byName.get(u.name);
    if (current === undefined || !current.suspicion.confirm(u.from)) return false;
    // A held verdict still waits for the answer to the reminder in flight (the bound shrinks).
    if (current.held) return true;
    this.ctx.timers.cancel(current.timer);
    current.timer = this.ctx.timers.schedule('suspicion', current.suspicion.deadline(), u.name);
    if (current.reminder !== null) {
      this.ctx.timers.cancel(current.reminder);
      // Due at once when the new deadline is closer than a probe timeout (the heap fires past-due timers).
      current.reminder = this.ctx.timers.schedule('suspect-reminder', reminderAt(current.suspicion.deadline(), this.ctx.config.probeTimeoutMs), u.name);
    }
    return true;
  }

  /** The member is no longer suspect (refuted, dead or left): its timer is cancelled. */
  end(name: string): void {
    const current = this.byName.get(name);
    if (current === undefined) return;
    this.ctx.timers.cancel(current.timer);
    this.ctx.timers.cancel(current.reminder);
    this.byName.delete(name);
  }

  /**
   * Whether `timer` is the running suspicion's pending reminder; if so it is now used up. `deaf`: we
   * are unhealthy and have heard nothing lately, so the reminder may be lost on our side (holdVerdict).
   */
  takeReminder(timer: CoreTimer, deaf: boolean): boolean {
    const current = this.byName.get(timer.name);
    if (current?.reminder !== timer) return false;
    current.reminder = null;
    current.remindedDeaf = deaf;
    return true;
  }

  /**
   * At the suspicion's deadline: true when the verdict waits, and the caller sends a new reminder now.
   * An unanswered reminder only says the suspect is gone if it could have reached it. Lifeguard's local
   * health (section IV-A) reads missed acks and nacks as a sign the fault may be ours; a member that
   * is unhealthy and has heard nothing from anyone for a whole protocol period is most likely cut off,
   * so its reminder was most likely lost: an isolated member's suspicions (raised by its own probes,
   * unconfirmed, at the maximum timeout) run out around the time its link returns, before anyone talks
   * to it again. So while the last reminder went out deaf, the verdict waits, each time with a fresh
   * reminder: one probe timeout while we are still deaf, so the first reminder after the link returns
   * goes out at once; the probe timeout as our health score stretches it (section IV-A, as for our
   * probes) once we hear again, since the suspect may be slow to answer just then (every member
   * rebuilds its tables when one comes back). Bounded: the suspicion lasts at most twice its Lifeguard
   * timeout, since a member whose peers all crashed hears nothing either and must still declare them
   * dead.
   */
  holdVerdict(timer: CoreTimer, now: Millis, deaf: boolean): boolean {
    const current = this.byName.get(timer.name);
    if (current?.timer !== timer || !current.remindedDeaf) return false;
    const { suspicion } = current;
    const limit = 2 * suspicion.deadline() - suspicion.startedAt;
    if (now >= limit) return false;
    const { config, awareness, timers } = this.ctx;
    const wait = deaf ? config.probeTimeoutMs : awareness.scale(config.probeTimeoutMs);
    current.remindedDeaf = deaf;
    current.held = true;
    current.timer = timers.schedule('suspicion', Math.min(now + wait, limit), timer.name);
    return true;
  }

  /** Whether `timer` is the running suspicion's (a restarted or ended one leaves stale timers behind). */
  isCurrent(timer: CoreTimer): boolean {
    return this.byName.get(timer.name)?.timer === timer;
  }

  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  wasHeardFrom(name: string): boolean {
    return this.byName.get(name)?.heardFrom === true;
  }

  confirmations(name: string): number | undefined {
    return this.byName.get(name)?.suspicion.confirmations;
  }

  deadline(name: string): Millis | undefined {
    return this.byName.get(name)?.timer.at;
  }
}
