// Listening and closing, the same for apid, trustd and the metrics endpoint: a port that cannot be taken is an error
// naming the service and the address (serve adds how to fix it), and close() drops open connections (watch streams,
// kept-alive ones) instead of waiting for their clients, so a node stops in bounded time.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listener {
  /** The port taken (the one asked for, or the free one picked for 0). */
  port: number;
  close(): Promise<void>;
}

/** `service` names the server in the error: `apid cannot listen on 0.0.0.0:50000: listen EADDRINUSE ...`. */
export async function listen(server: Server, service: string, host: string, port: number): Promise<Listener> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    throw new Error(`${service} cannot listen on ${host}:${port}: ${(err as Error).message}`);
  }
  return { port: (server.address() as AddressInfo).port, close: () => closeServer(server) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
