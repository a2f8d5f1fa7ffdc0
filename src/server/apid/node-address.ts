// How nodes are addressed on the command line and in forwarded requests: host[:port], IPv6 as [addr]:port.
export const APID_PORT = 50000;
/** etcd's client port, for an etcd member given without one. */
export const ETCD_CLIENT_PORT = 2379;

export interface NodeAddress {
  host: string;
  port: number;
}

export function parseNodeAddress(text: string, defaultPort = APID_PORT): NodeAddress {
  const value = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) return { host: bracketed[1], port: port(bracketed[2], defaultPort, text) };
  const colons = value.split(':').length - 1;
  if (colons > 1) return { host: value, port: defaultPort }; // a bare IPv6 address
  const [host, p] = value.split(':');
  if (!host) throw new Error(`node address ${JSON.stringify(text)}: expected host[:port], e.g. 10.5.0.2 or 10.5.0.2:50000`);
  return { host, port: port(p, defaultPort, text) };
}

function port(text: string | undefined, fallback: number, whole: string): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`node address ${JSON.stringify(whole)}: port must be 1-65535, got ${JSON.stringify(text)}`);
  return n;
}

export function formatNodeAddress(a: NodeAddress): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
