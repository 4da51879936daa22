// Round-trip time of direct probes, measured in the shell (the core keeps no clock of its own): the
// send time of each ping by sequence number, matched with the ack that names the same sequence and the
// pinged member. Acks relayed for indirect probes carry other sequence numbers and are not counted.
import type { Packet } from '../core/types.js';

/** Pings awaiting their ack that are remembered at once; the oldest are forgotten first. */
const MAX_OUTSTANDING = 256;

export class ProbeTimer {
  private readonly sentAt = new Map<number, { readonly target: string; readonly at: number }>();

  constructor(private readonly observe: (seconds: number) => void) {}

  /** Call for every packet sent, with the send time in ms. */
  sent(packet: Packet, nowMs: number): void {
    const m = packet.message;
    if (m === null || m.type !== 'ping') return;
    if (this.sentAt.size >= MAX_OUTSTANDING) {
      const oldest = this.sentAt.keys().next();
      if (oldest.done !== true) this.sentAt.delete(oldest.value);
    }
    this.sentAt.set(m.seq, { target: m.target, at: nowMs });
  }

  /** Call for every packet received, with the receive time in ms. */
  received(packet: Packet, nowMs: number): void {
    const m = packet.message;
    if (m === null || m.type !== 'ack') return;
    const ping = this.sentAt.get(m.seq);
    if (ping === undefined || ping.target !== m.from) return;
    this.sentAt.delete(m.seq);
    this.observe(Math.max(0, nowMs - ping.at) / 1000);
  }

  /** Pings still waiting (for tests). */
  get outstanding(): number {
    return this.sentAt.size;
  }
}
