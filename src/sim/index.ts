// The deterministic simulator's public surface.
export { Simulator, SimNode, GOSSIP_PORT, GRPC_PORT, APP_PORT } from './simulator.js';
export type { SimulatorOptions, AddNodeOptions, RestartOptions, Traffic, Drops } from './simulator.js';
export { NetworkModel, DEFAULT_NETWORK } from './network.js';
export type { NetworkOptions, DropReason } from './network.js';
export { Observer, STATE_CODES } from './observer.js';
export type { SimCore, SimCoreOptions, CoreFactory } from './core-port.js';
export { createSwimCore } from './swim-factory.js';
export { memberCoreFactory, SimMember } from './member-core.js';
export type { MemberModel } from './member-core.js';
export { MemberFigures } from './member-figures.js';
export type { MemberLife, MemberReport } from './member-figures.js';
export { runScenario, WALL_CLOCK_FIELDS } from './scenario.js';
export type { ScenarioOptions, ScenarioProgress, SimReport } from './scenario.js';
export { formatReport } from './format.js';
export { packetBytes, recordBytes, recordsBytes } from './bytes.js';
export { MinHeap } from '../core/min-heap.js';
export { deriveSeed } from './seeds.js';
