// The real core behind the simulator's CoreFactory port.
import { SwimCore } from '../core/swim.js';
import type { CoreFactory } from './core-port.js';

export const createSwimCore: CoreFactory = (options) => new SwimCore(options);
