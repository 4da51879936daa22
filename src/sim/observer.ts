// Watches every core's membership events and keeps what reports need, without an N x N table of
// times: a compact N x N table of current states (one byte per observer and name), per-name counts
// of live observers in each state, the first time anyone and the first time everyone saw a name in
// each state, false accusations of live processes, and cluster convergence.
//
// "Live observer": a running node that has not left. A stopped (crashed) or departed node's view is
// withdrawn at once, because reports ask what the *remaining* members believe.
import type { MemberRecord, MemberState, MembershipEvent } from '../core/types.js';

export const STATE_CODES = { alive: 1, suspect: 2, dead: 3, left: 4 } as const satisfies Record<MemberState, number>;
const STATE_OF_CODE: readonly (MemberState | undefined)[] = [undefined, 'alive', 'suspect', 'dead', 'left'];
const S = 5;
const ALIVE = STATE_CODES.alive;
const SUSPECT = STATE_CODES.suspect;
const DEAD = STATE_CODES.dead;

function grownFloat(old: Float64Array, size: number): Float64Array {
  const next = new Float64Array(size).fill(Number.NaN);
  next.set(old);
  return next;
}
function bump(array: Int32Array, index: number, delta: number): void {
  array[index] = (array[index] ?? 0) + delta;
}
function grownInt(old: Int32Array, size: number): Int32Array {
  const next = new Int32Array(size);
  next.set(old);
  return next;
}

export class Observer {
  private readonly nameIds = new Map<string, number>();
  private readonly names: string[] = [];
  /** The last converged start's list of records and their name ids (onJoinedAll). */
  private joinedList: { records: readonly MemberRecord[]; ids: number[]; codes: Uint8Array } | null = null;
  private nodeCap: number;
  private nameCap: number;
  /** view[node * nameCap + name] = state code seen by that node (0 = unknown). */
  private view: Uint8Array;
  private observing: Uint8Array;
  private nodeName: Int32Array;
  private readonly nodeLife: string[] = [];
  /** lifeId -> node, for the lives now running and not departed. */
  private readonly liveLives = new Map<string, number>();
  /** Per name, indexed name * S + state. */
  private counts: Int32Array;
  private firsts: Float64Array;
  private everyone: Float64Array;
  private into: Int32Array;
  private liveWithName: Int32Array;
  private falseDead: Int32Array;
  private falseDeadFirst: Float64Array;
  private falseSuspect: Int32Array;
  private readonly suspicionEpisodes = new Set<string>();
  private readonly watches = new Map<number, Float64Array>();

  private liveObservers = 0;
  private liveNames = 0;
  private fullyAlive = 0;
  private dirty = false;
  private convergedTime = Number.NaN;

  /** Events whose `from` state disagreed with what this observer recorded (a core bug indicator). */
  fromMismatches = 0;
  nameConflicts = 0;
  refutations = 0;
  reaps = 0;
  readonly nameConflictsByName = new Map<string, number>();

  constructor(capacity = 64) {
    this.nodeCap = Math.max(4, capacity);
    this.nameCap = Math.max(4, capacity);
    this.view = new Uint8Array(this.nodeCap * this.nameCap);
    this.observing = new Uint8Array(this.nodeCap);
    this.nodeName = new Int32Array(this.nodeCap).fill(-1);
    this.counts = new Int32Array(this.nameCap * S);
    this.firsts = new Float64Array(this.nameCap * S).fill(Number.NaN);
    this.everyone = new Float64Array(this.nameCap * S).fill(Number.NaN);
    this.into = new Int32Array(this.nameCap * S);
    this.liveWithName = new Int32Array(this.nameCap);
    this.falseDead = new Int32Array(this.nameCap);
    this.falseDeadFirst = new Float64Array(this.nameCap).fill(Number.NaN);
    this.falseSuspect = new Int32Array(this.nameCap);
  }

  // -------------------------------------------------------------------------------------------
  // Fed by the simulator
  // -------------------------------------------------------------------------------------------

  nameId(name: string): number {
    let id = this.nameIds.get(name);
    if (id === undefined) {
      id = this.names.length;
      if (id >= this.nameCap) this.grow(this.nodeCap, this.nameCap * 2);
      this.nameIds.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  /** A node's new life starts observing (its own view starts empty). */
  nodeStarted(node: number, name: string, lifeId: string): void {
    if (node >= this.nodeCap) this.grow(Math.max(node + 1, this.nodeCap * 2), this.nameCap);
    const t = this.nameId(name);
    if (this.observing[node] === 1) throw new Error(`observer: node ${node} started twice`);
    this.observing[node] = 1;
    this.nodeName[node] = t;
    this.nodeLife[node] = lifeId;
    this.liveLives.set(lifeId, node);
    this.liveObservers++;
    this.liveWithName[t] = (this.liveWithName[t] ?? 0) + 1;
    this.dirty = true;
  }

  /** A node crashed, stopped or left: its view no longer counts and its life is no longer live. */
  nodeStopped(node: number, now: number): void {
    if (this.observing[node] !== 1) return;
    this.observing[node] = 0;
    const row = node * this.nameCap;
    for (let t = 0; t < this.names.length; t++) {
      const s = this.view[row + t] ?? 0;
      if (s !== 0) {
        bump(this.counts, t * S + s, -1);
        this.view[row + t] = 0;
      }
    }
    const t = this.nodeName[node] ?? -1;
    this.liveWithName[t] = (this.liveWithName[t] ?? 1) - 1;
    const life = this.nodeLife[node];
    if (life !== undefined && this.liveLives.get(life) === node) this.liveLives.delete(life);
    this.liveObservers--;
    // Fewer observers: "everyone sees X" may now hold for names nobody else was missing.
    for (let name = 0; name < this.names.length; name++) {
      for (let s = 1; s < S; s++) this.checkEveryone(name, s, now);
    }
    this.dirty = true;
    this.refresh(now);
  }

  onEvent(node: number, event: MembershipEvent, now: number): void {
    if (this.observing[node] !== 1) return;
    if (this.dirty) this.refresh(now);
    switch (event.type) {
      case 'member':
        this.onMember(node, event.name, event.from, event.to, event.member.lifeId, event.member.incarnation, now);
        return;
      case 'reaped': {
        this.reaps++;
        const t = this.nameId(event.name);
        if (t === this.nodeName[node]) return;
        this.setView(node, t, 0, now);
        return;
      }
      case 'name-conflict':
        this.nameConflicts++;
        this.nameConflictsByName.set(event.name, (this.nameConflictsByName.get(event.name) ?? 0) + 1);
        return;
      case 'refuted':
        this.refutations++;
        return;
    }
  }

  /** `node` joined holding every one of `records` (a converged start): as their joined events would. */
  onJoinedAll(node: number, records: readonly MemberRecord[], now: number): void {
    if (this.observing[node] !== 1) return;
    if (this.dirty) this.refresh(now);
    // One list for every node of the start: its names are looked up once, not once per node.
    if (this.joinedList?.records !== records) {
      const ids = records.map((r) => this.nameId(r.name));
      this.joinedList = { records, ids, codes: Uint8Array.from(records, (r) => STATE_CODES[r.state]) };
    }
    const { ids, codes } = this.joinedList;
    const self = this.nodeName[node];
    const row = node * this.nameCap;
    for (let i = 0; i < records.length; i++) {
      const t = ids[i] as number;
      if (t === self) continue;
      // An alive name this node had not seen (N per node): onMemberId would find nothing else to do.
      if (codes[i] === ALIVE && this.view[row + t] === 0) this.setView(node, t, ALIVE, now);
      else {
        const r = records[i] as MemberRecord;
        this.onMemberId(node, t, null, r.state, r.lifeId, r.incarnation, now);
      }
    }
  }

  /** Starts a fresh measurement for one name (e.g. at its crash): firsts, everyone-times, counts of transitions. */
  resetName(name: string, now: number): void {
    const t = this.nameId(name);
    for (let s = 0; s < S; s++) {
      this.firsts[t * S + s] = Number.NaN;
      this.everyone[t * S + s] = Number.NaN;
      this.into[t * S + s] = 0;
      this.checkEveryone(t, s, now);
    }
  }

  /** Forgets when the cluster converged, so the next convergence (after a heal) is timed. */
  resetConvergence(now: number): void {
    this.convergedTime = Number.NaN;
    this.dirty = true;
    this.refresh(now);
  }

  /** Starts recording, per observer, the first time it sees `name` in each state. */
  watch(name: string): void {
    const t = this.nameId(name);
    if (!this.watches.has(t)) this.watches.set(t, new Float64Array(this.nodeCap * S).fill(Number.NaN));
  }

  // -------------------------------------------------------------------------------------------
  // Queries
  // -------------------------------------------------------------------------------------------

  /** Time every live member first saw every live member alive (since the last reset); NaN if not yet. */
  get convergedAt(): number {
    return this.convergedTime;
  }

  /** Whether, right now, every live member sees every other live member alive. */
  isConverged(): boolean {
    if (this.dirty) this.recount();
    return this.liveNames > 0 && this.fullyAlive === this.liveNames;
  }

  /** How many live observers see `name` in `state` now. */
  count(name: string, state: MemberState): number {
    const t = this.nameIds.get(name);
    return t === undefined ? 0 : (this.counts[t * S + STATE_CODES[state]] ?? 0);
  }

  /** What one node believes about `name` now (undefined: unknown or reaped). */
  stateSeenBy(node: number, name: string): MemberState | undefined {
    const t = this.nameIds.get(name);
    if (t === undefined || node >= this.nodeCap || t >= this.nameCap) return undefined;
    return STATE_OF_CODE[this.view[node * this.nameCap + t] ?? 0];
  }

  /** First time (since the name's last reset) any live member saw `name` in `state`; NaN if never. */
  firstSeenAt(name: string, state: MemberState): number {
    const t = this.nameIds.get(name);
    return t === undefined ? Number.NaN : (this.firsts[t * S + STATE_CODES[state]] ?? Number.NaN);
  }

  /** First time (since the last reset) every live member other than `name` itself saw it in `state`. */
  everyoneSawAt(name: string, state: MemberState): number {
    const t = this.nameIds.get(name);
    return t === undefined ? Number.NaN : (this.everyone[t * S + STATE_CODES[state]] ?? Number.NaN);
  }

  /** How many times (since the last reset) a live member moved `name` into `state`. */
  transitionsInto(name: string, state: MemberState): number {
    const t = this.nameIds.get(name);
    return t === undefined ? 0 : (this.into[t * S + STATE_CODES[state]] ?? 0);
  }

  /** Per watched name: the first time `node` saw it in `state`; NaN if never or not watched. */
  watchedFirstSeen(name: string, node: number, state: MemberState): number {
    const t = this.nameIds.get(name);
    const w = t === undefined ? undefined : this.watches.get(t);
    return w === undefined ? Number.NaN : (w[node * S + STATE_CODES[state]] ?? Number.NaN);
  }

  /** Times a running life of `name` was declared dead by a live member. */
  falseDeaths(name: string): number {
    const t = this.nameIds.get(name);
    return t === undefined ? 0 : (this.falseDead[t] ?? 0);
  }

  falseDeathAt(name: string): number {
    const t = this.nameIds.get(name);
    return t === undefined ? Number.NaN : (this.falseDeadFirst[t] ?? Number.NaN);
  }

  /** Distinct suspicions (lifeId, incarnation) of a running life of `name`. */
  falseSuspicions(name: string): number {
    const t = this.nameIds.get(name);
    return t === undefined ? 0 : (this.falseSuspect[t] ?? 0);
  }

  /** Every name seen so far, in registration order. */
  allNames(): readonly string[] {
    return this.names;
  }

  // -------------------------------------------------------------------------------------------

  private onMember(
    node: number,
    name: string,
    from: MemberState | null,
    to: MemberState,
    lifeId: string,
    incarnation: number,
    now: number,
  ): void {
    this.onMemberId(node, this.nameId(name), from, to, lifeId, incarnation, now);
  }

  private onMemberId(node: number, t: number, from: MemberState | null, to: MemberState, lifeId: string, incarnation: number, now: number): void {
    if (t === this.nodeName[node]) return;
    const idx = node * this.nameCap + t;
    const old = this.view[idx] ?? 0;
    if (old !== (from === null ? 0 : STATE_CODES[from])) this.fromMismatches++;
    const next = STATE_CODES[to];
    if (next === SUSPECT || next === DEAD) this.noteAccusation(t, next, lifeId, incarnation, now);
    if (old === next) return;
    this.setView(node, t, next, now);
  }

  private noteAccusation(t: number, state: number, lifeId: string, incarnation: number, now: number): void {
    if (!this.liveLives.has(lifeId)) return;
    if (state === DEAD) {
      this.falseDead[t] = (this.falseDead[t] ?? 0) + 1;
      if (Number.isNaN(this.falseDeadFirst[t] ?? 0)) this.falseDeadFirst[t] = now;
      return;
    }
    const key = `${lifeId}\u0000${incarnation}`;
    if (this.suspicionEpisodes.has(key)) return;
    this.suspicionEpisodes.add(key);
    this.falseSuspect[t] = (this.falseSuspect[t] ?? 0) + 1;
  }

  private setView(node: number, t: number, next: number, now: number): void {
    const idx = node * this.nameCap + t;
    const old = this.view[idx] ?? 0;
    if (old === next) return;
    const wasFully = !this.dirty && this.isFullyAlive(t);
    this.view[idx] = next;
    if (old !== 0) bump(this.counts, t * S + old, -1);
    if (next !== 0) {
      const k = t * S + next;
      bump(this.counts, k, 1);
      bump(this.into, k, 1);
      if (Number.isNaN(this.firsts[k] ?? 0)) this.firsts[k] = now;
      this.checkEveryone(t, next, now);
      const w = this.watches.size === 0 ? undefined : this.watches.get(t);
      if (w !== undefined && Number.isNaN(w[node * S + next] ?? 0)) w[node * S + next] = now;
    }
    if (!this.dirty && (old === ALIVE || next === ALIVE)) {
      this.fullyAlive += (this.isFullyAlive(t) ? 1 : 0) - (wasFully ? 1 : 0);
      this.noteConvergence(now);
    }
  }

  private expectedObservers(t: number): number {
    return this.liveObservers - (this.liveWithName[t] ?? 0);
  }

  private checkEveryone(t: number, s: number, now: number): void {
    if (s === 0) return;
    const k = t * S + s;
    if (!Number.isNaN(this.everyone[k] ?? 0)) return;
    const expected = this.expectedObservers(t);
    if (expected > 0 && (this.counts[k] ?? 0) >= expected) this.everyone[k] = now;
  }

  private isFullyAlive(t: number): boolean {
    return (this.liveWithName[t] ?? 0) > 0 && (this.counts[t * S + ALIVE] ?? 0) >= this.expectedObservers(t);
  }

  private recount(): void {
    let live = 0;
    let fully = 0;
    for (let t = 0; t < this.names.length; t++) {
      if ((this.liveWithName[t] ?? 0) <= 0) continue;
      live++;
      if (this.isFullyAlive(t)) fully++;
    }
    this.liveNames = live;
    this.fullyAlive = fully;
    this.dirty = false;
  }

  private refresh(now: number): void {
    this.recount();
    this.noteConvergence(now);
  }

  private noteConvergence(now: number): void {
    if (Number.isNaN(this.convergedTime) && this.liveNames > 0 && this.fullyAlive === this.liveNames) {
      this.convergedTime = now;
    }
  }

  private grow(nodeCap: number, nameCap: number): void {
    const view = new Uint8Array(nodeCap * nameCap);
    for (let n = 0; n < this.nodeCap; n++) {
      view.set(this.view.subarray(n * this.nameCap, (n + 1) * this.nameCap), n * nameCap);
    }
    this.view = view;
    if (nodeCap > this.nodeCap) {
      const observing = new Uint8Array(nodeCap);
      observing.set(this.observing);
      this.observing = observing;
      const nodeName = new Int32Array(nodeCap).fill(-1);
      nodeName.set(this.nodeName);
      this.nodeName = nodeName;
      for (const [t, w] of this.watches) this.watches.set(t, grownFloat(w, nodeCap * S));
    }
    if (nameCap > this.nameCap) {
      this.counts = grownInt(this.counts, nameCap * S);
      this.firsts = grownFloat(this.firsts, nameCap * S);
      this.everyone = grownFloat(this.everyone, nameCap * S);
      this.into = grownInt(this.into, nameCap * S);
      this.liveWithName = grownInt(this.liveWithName, nameCap);
      this.falseDead = grownInt(this.falseDead, nameCap);
      this.falseDeadFirst = grownFloat(this.falseDeadFirst, nameCap);
      this.falseSuspect = grownInt(this.falseSuspect, nameCap);
    }
    this.nodeCap = nodeCap;
    this.nameCap = nameCap;
  }
}
