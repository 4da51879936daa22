// Options for one real Agent on loopback with ephemeral ports and the local SWIM profile: the settings
// runtime tests share, so each test states only what it is about (its name, drain, logger, seeds).
import type { Logger } from 'pino';
import { profileConfig } from '../../src/core/config.js';
import type { AgentOptions } from '../../src/runtime/agent-options.js';

export function loopbackAgentOptions(name: string, logger: Logger, overrides: Partial<AgentOptions> = {}): AgentOptions {
  return {
    name,
    gossipBind: '127.0.0.1:0',
    grpcBind: '127.0.0.1:0',
    advertiseHost: '127.0.0.1',
    appAddr: '',
    tags: {},
    seeds: [],
    bootstrap: true,
    swim: profileConfig('local'),
    shards: 64,
    replicas: 1,
    settleMs: 0,
    leaveTimeoutMs: 100,
    joinRetryInitialMs: 100,
    joinRetryMaxMs: 1000,
    joinTimeoutMs: 1000,
    rpcTimeoutMs: 1000,
    appHealth: null,
    appCheck: { intervalMs: 1000, timeoutMs: 500, failureThreshold: 3, successThreshold: 1 },
    drainMs: 0,
    label: null,
    logger,
    ...overrides,
  };
}
