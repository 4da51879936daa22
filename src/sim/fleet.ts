// Fleet operations at Kubernetes semantics in the simulator (`swimring sim --rolling-update`, `--drain K`,
// `--statefulset-restart`): pods of a Deployment or a StatefulSet as member lives, probed, terminated and
// replaced as the kubelet and the controllers do with the shipped native-sidecar Deployment
// (deploy/kubernetes/native; test/sim/fleet.test.ts holds POD_TEMPLATE equal to it as rendered):
//   - a pod is a member life; a Deployment's new pod gets a new name and a new address, a StatefulSet's
//     keeps its name on a new address. The seed name resolves to every running pod (the headless
//     Service publishes not-ready addresses).
//   - startupProbe every 2 s from the start until it passes (the hook's rule: /readyz, the app being
//     ready here); readinessProbe ticks every 5 s from the start, skipped until the startup probe passed:
//     Ready after one success, out of the Service after failureThreshold failures in a row.
//   - deletion: the pod leaves its Service at once; the sidecar's preStop starts the leave (stop serving,
//     drain, announce) and the app's preStop sleeps; the sidecar gets SIGTERM when the app has exited, and
//     exits as the agent does once its leave news has gone out; SIGKILL at the grace period.
import type { SimMember } from './member-core.js';
import type { SimNode, Simulator } from './simulator.js';

export type FleetOperation = { kind: 'rolling-update' } | { kind: 'drain'; pods: number } | { kind: 'statefulset-restart' };

/** What the shipped Deployment (and the agent's defaults) ask of the kubelet and the controllers. */
export interface PodTemplate {
  readonly readiness: { readonly periodMs: number; readonly failureThreshold: number };
  readonly startup: { readonly periodMs: number; readonly failureThreshold: number };
  readonly minReadyMs: number;
  readonly gracePeriodMs: number;
  /** The app container's preStop sleep: the sidecar gets SIGTERM once the app has exited after it. */
  readonly appDrainMs: number;
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  /** The agent's --drain-ms and --leave-timeout-ms defaults. */
  readonly drainMs: number;
  readonly leaveTimeoutMs: number;
}

export const POD_TEMPLATE: PodTemplate = {
  readiness: { periodMs: 5000, failureThreshold: 2 },
  startup: { periodMs: 2000, failureThreshold: 60 },
  minReadyMs: 10_000,
  gracePeriodMs: 40_000,
  appDrainMs: 5000,
  maxSurge: 1,
  maxUnavailable: 0,
  drainMs: 2000,
  leaveTimeoutMs: 5000,
};

/** How often a controller looks at its pods (the real ones react to watch events within moments). */
const CONTROLLER_TICK_MS = 100;
/** How often an exiting sidecar looks whether its leave news has gone out. */
const EXIT_CHECK_MS = 100;

/** One pod: a member life plus what the kubelet knows of it. */
export class SimPod {
  readonly life: number;
  /** The pod's address (its gossip address) as created. */
  readonly address: string;
  startedAt: number | null = null;
  readyAt: number | null = null;
  ready = false;
  terminatingAt: number | null = null;
  sigtermAt: number | null = null;
  exitedAt: number | null = null;
  killed = false;
  /** The startup probe ran out of attempts (the kubelet would restart the container). */
  startupExhausted = false;
  readinessProbes = 0;
  /** Failed readiness probes while Ready and not terminating: what must never happen to a bystander. */
  readonly servingFailures: string[] = [];
  /** Ready -> NotReady while not terminating. */
  readonly leftService: number[] = [];
  private failuresInRow = 0;

  constructor(
    readonly node: SimNode,
    readonly member: SimMember,
    readonly createdAt: number,
  ) {
    this.life = node.life;
    this.address = node.gossipAddr;
  }

  get name(): string {
    return this.node.name;
  }

  get exited(): boolean {
    return this.exitedAt !== null;
  }

  recordReadiness(ok: boolean, reasons: readonly string[], at: number, failureThreshold: number): void {
    this.readinessProbes++;
    if (ok) {
      this.failuresInRow = 0;
      this.ready = true;
      this.readyAt ??= at;
      return;
    }
    if (this.readyAt !== null && this.terminatingAt === null) this.servingFailures.push(`${this.name} at ${at} ms: ${reasons.join('; ')}`);
    this.failuresInRow++;
    if (this.ready && this.failuresInRow >= failureThreshold) {
      this.ready = false;
      if (this.terminatingAt === null) this.leftService.push(at);
    }
  }
}

/** A membership change the controllers caused: a pod created (it joins) or deleted (its leave begins). */
export interface FleetChange {
  readonly kind: 'join' | 'leave';
  readonly name: string;
  readonly at: number;
}

/** Starts, probes and terminates pods in the simulator as the kubelet does with the template. */
export class SimKubelet {
  readonly pods: SimPod[] = [];
  readonly changes: FleetChange[] = [];
  /** Index in `changes` of each name's latest change. */
  readonly latestChange = new Map<string, number>();
  private readonly byMember = new Map<SimMember, SimPod>();

  constructor(
    readonly sim: Simulator,
    readonly template: PodTemplate,
  ) {}

  podOf(member: SimMember): SimPod | undefined {
    return this.byMember.get(member);
  }

  /** Pods not terminating and not exited (what a controller counts), oldest first. */
  live(): SimPod[] {
    return this.pods.filter((p) => p.terminatingAt === null && !p.exited);
  }

  /** gRPC addresses of every running pod: what the headless Service lists. */
  serviceAddresses(): string[] {
    return this.pods.filter((p) => !p.exited).map((p) => p.node.grpcAddr);
  }

  /** Takes over a pod that was started and became Ready before the operation; probing goes on. */
  adopt(node: SimNode, createdAt: number, now: number): SimPod {
    const pod = this.track(node, createdAt);
    pod.startedAt = createdAt;
    pod.ready = true;
    pod.readyAt = createdAt;
    const period = this.template.readiness.periodMs;
    this.scheduleReadiness(pod, createdAt + Math.ceil((now - createdAt + 1) / period) * period);
    return pod;
  }

  /** A new pod: a Deployment's under a new name (`node` new), a StatefulSet's under its old one (`node` restarted). */
  create(node: SimNode | null): SimPod {
    const sim = this.sim;
    if (node === null) {
      node = sim.addNode();
      sim.join(node, []);
    } else {
      sim.restart(node, { newAddress: true, seeds: [] });
    }
    const pod = this.track(node, sim.now);
    this.changed({ kind: 'join', name: pod.name, at: sim.now });
    this.probeStartup(pod, 0);
    this.scheduleReadiness(pod, sim.now + this.template.readiness.periodMs);
    return pod;
  }

  /** Ready for minReadySeconds (`minReadyMs`): what a Deployment counts as available. */
  available(pod: SimPod, minReadyMs = this.template.minReadyMs): boolean {
    return pod.ready && pod.readyAt !== null && this.sim.now - pod.readyAt >= minReadyMs && !pod.exited;
  }

  /** Pod deletion: out of the Service now; preStop leave and the app's drain; SIGTERM; exit; SIGKILL at the grace. */
  terminate(pod: SimPod): void {
    const sim = this.sim;
    const t0 = sim.now;
    pod.terminatingAt = t0;
    this.changed({ kind: 'leave', name: pod.name, at: t0 });
    sim.leave(pod.node);
    sim.at(t0 + this.template.appDrainMs, () => {
      if (pod.exited) return;
      pod.sigtermAt = sim.now;
      this.awaitExit(pod, t0 + this.template.gracePeriodMs);
    });
  }

  private changed(change: FleetChange): void {
    this.latestChange.set(change.name, this.changes.length);
    this.changes.push(change);
  }

  private track(node: SimNode, createdAt: number): SimPod {
    const member = node.core as SimMember;
    const pod = new SimPod(node, member, createdAt);
    this.pods.push(pod);
    this.byMember.set(member, pod);
    return pod;
  }

  /**
   * On SIGTERM the agent (src/runtime/agent.ts, leaveAndClose) waits for its leave to be announced (the
   * drain ends), then while its news is queued and it has live peers, at most the leave timeout, then one
   * more gossip round; the kubelet's SIGKILL at `killAt` cuts any of it short.
   */
  private awaitExit(pod: SimPod, killAt: number): void {
    const sim = this.sim;
    const member = pod.member;
    if (pod.node.core !== member) return;
    const announced = member.leaveAnnouncedAt;
    const queued = announced === null || (member.pendingBroadcasts() > 0 && member.wholeMember.livePeers().length > 0 && sim.now < announced + this.template.leaveTimeoutMs);
    if (queued && sim.now < killAt) {
      sim.after(EXIT_CHECK_MS, () => this.awaitExit(pod, killAt));
      return;
    }
    const exit = (killed: boolean): void => {
      if (pod.exited) return;
      pod.killed = killed;
      pod.exitedAt = sim.now;
      sim.stop(pod.node);
    };
    if (sim.now >= killAt) exit(true);
    else {
      const lastRound = Math.min(2 * sim.config.gossipIntervalMs, 500);
      sim.at(Math.min(killAt, sim.now + lastRound), () => exit(sim.now >= killAt));
    }
  }

  private running(pod: SimPod): boolean {
    return !pod.exited && pod.node.core === pod.member;
  }

  private probeStartup(pod: SimPod, attempt: number): void {
    if (!this.running(pod) || pod.terminatingAt !== null) return;
    const sim = this.sim;
    if (pod.member.readyz(sim.now).ok) {
      pod.startedAt = sim.now;
      return;
    }
    if (attempt + 1 >= this.template.startup.failureThreshold) {
      pod.startupExhausted = true;
      return;
    }
    sim.after(this.template.startup.periodMs, () => this.probeStartup(pod, attempt + 1));
  }

  private scheduleReadiness(pod: SimPod, at: number): void {
    this.sim.at(at, () => {
      if (!this.running(pod) || pod.sigtermAt !== null) return;
      if (pod.startedAt !== null) {
        const answer = pod.member.readyz(this.sim.now);
        pod.recordReadiness(answer.ok, answer.reasons, this.sim.now, this.template.readiness.failureThreshold);
      }
      this.scheduleReadiness(pod, at + this.template.readiness.periodMs);
    });
  }
}

/** A controller driving one operation to its end; `done` once every old pod has exited and every new one is available. */
export interface FleetController {
  readonly done: boolean;
  /** Per step: from its start to its end (the new pod available, or the restarted pod Ready). */
  readonly stepsMs: number[];
  /** Pods the operation deleted. */
  readonly replaced: number;
}

/** Starts `operation` on `pods` (the running pods, in ordinal order) and drives it on the simulator's clock. */
export function startController(kubelet: SimKubelet, operation: FleetOperation, pods: readonly SimPod[], pick: (n: number) => SimPod[]): FleetController {
  const sim = kubelet.sim;
  const state = { done: false, stepsMs: [] as number[], replaced: 0 };
  let loop: () => void;
  if (operation.kind === 'rolling-update') {
    // maxSurge 1, maxUnavailable 0: one new pod at a time; once it is available one old pod is deleted
    // and the next new pod created while that old pod terminates.
    const old = [...pods];
    let surge: SimPod | null = null;
    let stepStart = sim.now;
    loop = (): void => {
      if (surge === null && old.length > 0) {
        surge = kubelet.create(null);
        stepStart = sim.now;
      }
      if (surge !== null && kubelet.available(surge)) {
        const victim = old.shift();
        if (victim !== undefined) kubelet.terminate(victim);
        state.replaced++;
        state.stepsMs.push(sim.now - stepStart);
        surge = null;
        if (old.length > 0) {
          surge = kubelet.create(null);
          stepStart = sim.now;
        }
      }
      state.done = surge === null && old.length === 0 && pods.every((p) => p.exited);
    };
  } else if (operation.kind === 'drain') {
    // The node's pods are evicted at once; the ReplicaSet creates as many replacements at once.
    const victims = pick(operation.pods);
    for (const v of victims) kubelet.terminate(v);
    const fresh = victims.map(() => kubelet.create(null));
    state.replaced = victims.length;
    const t0 = sim.now;
    loop = (): void => {
      if (state.stepsMs.length === 0 && fresh.every((p) => kubelet.available(p))) state.stepsMs.push(sim.now - t0);
      state.done = state.stepsMs.length > 0 && victims.every((p) => p.exited);
    };
  } else {
    // OrderedReady rolling restart, highest ordinal first: delete, wait until gone, recreate under the
    // same name on a new address, wait until Ready (a StatefulSet has no minReadySeconds here).
    let ordinal = pods.length - 1;
    let current: SimPod | null = null;
    let fresh: SimPod | null = null;
    let stepStart = sim.now;
    loop = (): void => {
      if (current === null && ordinal >= 0) {
        current = pods[ordinal--] ?? null;
        stepStart = sim.now;
        if (current !== null) kubelet.terminate(current);
      }
      if (current !== null && fresh === null && current.exited) fresh = kubelet.create(current.node);
      if (fresh !== null && kubelet.available(fresh, 0)) {
        state.replaced++;
        state.stepsMs.push(sim.now - stepStart);
        current = null;
        fresh = null;
      }
      state.done = current === null && ordinal < 0;
    };
  }
  const tick = (): void => {
    loop();
    if (!state.done) sim.after(CONTROLLER_TICK_MS, tick);
  };
  tick();
  return state;
}
