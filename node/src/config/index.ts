// The node's configuration surface, for the host's entry point: parse, print --help, log warnings.

export { ConfigError, describeProblem, type ConfigProblem, type ValueSource } from './config-error.js';
export {
  formatHostPort,
  isWildcardHost,
  parseHostPort,
  type HostPort,
} from '../../shared/config/host-port.js';
export { helpRequested, parseNodeConfig, type Env, type NodeConfig } from './node-config.js';
export { LOG_LEVELS, type InitialClusterState, type LogLevel } from '../../shared/config/options.js';
export { kvLimitsFromConfig } from './kv-limits.js';
export { usage } from './usage.js';
export type { InitialMember } from '../../shared/config/value-parsers.js';
export { configWarnings } from './warnings.js';
