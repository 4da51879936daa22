// The HTTP edge: the app API (127.0.0.1) and the ops API (pod IP). Neither factory listens.
export { buildAppApi, type AppApiOptions } from './app.js';
export { buildOpsApi, type OpsApiOptions } from './ops.js';
export { DEFAULT_LIMITS, type HttpLimits } from './limits.js';
export { ERROR_STATUS, type ErrorCode, type ErrorBody, type IssueView } from './errors.js';
