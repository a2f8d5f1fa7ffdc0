// What `trustctl serve`'s flags parse to (serve.ts declares them): its own file, so that the action and its helpers
// read the type without importing the command that loads them.
import type { AgeIdentityFlags } from './age-flags.js';
import type { LogFormat } from './log-line.js';
import type { Pkcs11Flags } from './pkcs11-flags.js';

export interface ServeOptions extends AgeIdentityFlags, Pkcs11Flags {
  config?: string;
  state?: string;
  nodeIp: string[];
  store?: string;
  hostname?: string;
  once?: boolean;
  logFormat: LogFormat;
  apiLifetime?: number;
  trustdLifetime?: number;
  etcdLifetime?: number;
  kubernetesLifetime?: number;
  listenAddress: string;
  apidPort: number;
  trustdPort: number;
  trustdEndpoint: string[];
  member: string[];
  maxWatchesPerClient: number;
  maxWatches: number;
  metricsAddr?: string;
  /** Milliseconds an audit record is kept. */
  auditRetention?: number;
  auditMaxRecords?: number;
}
