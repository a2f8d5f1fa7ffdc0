// Ports for the servers tests start as child processes (which cannot be given port 0 and asked back).
import net from 'node:net';
import type { AddressInfo } from 'node:net';

const handedOut = new Set<number>();

/** A port free now on 127.0.0.1 and not handed out before in this process: the kernel may offer a just-closed one again. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
      server.on('error', reject);
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}
