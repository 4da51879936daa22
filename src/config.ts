// Configuration: one zod schema fed by flags, SWIMRING_* environment variables, an optional JSON file
// and defaults. See docs/config.md (generated from ./config/options.ts).
export { configSchema, type SwimringConfig, type ResolvedConfig, PROFILE_NAMES, LOG_LEVELS } from './config/schema.js';
export { loadConfig, type LoadConfigInput, type LoadConfigResult } from './config/load.js';
export { OPTION_DOCS, type OptionDoc } from './config/options.js';
export { renderConfigDocs } from './config/docs.js';
export { formatHostPort, isLoopbackHost, type HostPort } from './net/address.js';
export type { AppHealth } from './config/fields.js';
