// What the apid benchmarks share: the servers run in a forked child (so the load generator does not compete with them
// for this process's event loop), and one round of autocannon over keep-alive mTLS connections.
import { fork } from 'node:child_process';
import autocannon from 'autocannon';

export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

/** Forks `script` with `--serve`; resolves with its first message (ports, credentials) and a stop (disconnect: it exits). */
export function forkServers<Setup>(script: string): Promise<{ setup: Setup; stop(): void }> {
  const child = fork(script, ['--serve'], { execArgv: [] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ setup: m as Setup, stop: () => child.disconnect() }));
    child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
  });
}

/** Requests per second over `seconds` with `connections` keep-alive connections; any non-2xx or error throws. */
export async function mtlsRate(port: number, path: string, tls: ClientTls, connections: number, seconds: number): Promise<number> {
  const result = await autocannon({ url: `https://127.0.0.1:${port}${path}`, connections, duration: seconds, tlsOptions: { ca: tls.ca, cert: tls.cert, key: tls.key } });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`port ${port}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return result.requests.total / seconds;
}
