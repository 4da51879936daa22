// Each member's view as its watch stream tells it (a snapshot on every connect, then one event per
// change), kept up to date from the harness's event log. The scale bench asks it whether one view can
// have been reached before it asks every member over HTTP: while a cluster forms on starved cores, a
// round of N HTTP requests every second is load the bench would add to what it measures.
import type { HostCluster } from '../../test/hosts/cluster.js';

interface View {
  readonly states: Map<string, string>;
  version: string;
}

export class WatchViews {
  private readonly views = new Map<string, View>();
  /** When each observer's stream first delivered anything (its HTTP API answered), harness clock. */
  readonly firstSeen = new Map<string, number>();
  private cursor = 0;

  constructor(private readonly c: HostCluster) {}

  private update(): void {
    const events = this.c.events;
    for (; this.cursor < events.length; this.cursor++) {
      const { at, observer, event } = events[this.cursor]!;
      if (!this.firstSeen.has(observer)) this.firstSeen.set(observer, at);
      if (event.type === 'snapshot') {
        this.views.set(observer, { states: new Map(event.members.map((m) => [m.name, m.state])), version: event.version });
        continue;
      }
      const view = this.views.get(observer);
      if (view === undefined) continue;
      if (event.type === 'member') {
        view.states.set(event.name, event.to);
        view.version = event.version;
      } else if (event.type === 'moves') view.version = event.version;
    }
  }

  /** Whether every running member's stream says: `expected` members, all alive, one table version. */
  oneView(expected: number): boolean {
    this.update();
    const versions = new Set<string>();
    for (const l of this.c.all()) {
      if (!l.running) continue;
      const view = this.views.get(l.name);
      if (view === undefined || view.states.size !== expected) return false;
      for (const state of view.states.values()) if (state !== 'alive') return false;
      versions.add(view.version);
    }
    return versions.size === 1;
  }
}
