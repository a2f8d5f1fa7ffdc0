// Where a worker finds trustd: the endpoints it was given (serve's --trustd-endpoint), else the host of the machine
// config's cluster.controlPlane.endpoint on trustd's port, as upstream workers do.
import { ipFamily } from '../../pki/index.js';

export const TRUSTD_DEFAULT_PORT = 50001;

export interface HostPort {
  host: string;
  port: number;
}

/** Parses `HOST:PORT` (`[v6]:PORT` for IPv6); a missing port means 50001. Throws naming the value and the fix. */
export function parseEndpoint(value: string, what = 'trustd endpoint'): HostPort {
  const text = value.trim();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  const m = v6 ?? plain;
  if (!m || (v6 && ipFamily(m[1]) !== 6)) throw new Error(`${what} ${JSON.stringify(value)}: expected HOST:PORT, e.g. 10.5.0.2:50001 or [fd00::1]:50001`);
  const port = m[2] === undefined ? TRUSTD_DEFAULT_PORT : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${what} ${JSON.stringify(value)}: port must be 1-65535`);
  return { host: m[1], port };
}

export function formatEndpoint({ host, port }: HostPort): string {
  return ipFamily(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The trustd endpoint implied by a control-plane endpoint URL such as https://10.5.0.2:6443. */
export function endpointFromControlPlane(url: string): HostPort | undefined {
  try {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    return host ? { host, port: TRUSTD_DEFAULT_PORT } : undefined;
  } catch {
    return undefined;
  }
}
