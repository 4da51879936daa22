// Member records and a RouteIndex-backed AgentView for route tests.
import { buildTable } from '../../src/placement/index.js';
import { RouteIndex } from '../../src/runtime/route-index.js';
import type { AgentView } from '../../src/runtime/view.js';
import { recordsOf } from './member-records.js';

export { recordsOf };

/** `base` with its route methods answered by a real RouteIndex, encoder included, as the agent does. */
export function indexedView(base: AgentView, names: readonly string[], shards = 4096): { view: AgentView; index: RouteIndex } {
  const index = new RouteIndex(buildTable(names, { shards, replicas: 2 }), recordsOf(names));
  const view: AgentView = Object.assign(Object.create(base) as AgentView, {
    route: (key: string) => index.route(key),
    routeMany: (keys: readonly string[]) => keys.map((k) => index.route(k)),
    routeEncoder: () => index,
  });
  return { view, index };
}
