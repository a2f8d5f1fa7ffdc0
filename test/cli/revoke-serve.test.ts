// Revocation end to end over `trustctl serve` processes: a control plane and a worker, a client that holds a kept-alive
// connection to each, `trustctl revoke` of its certificate, and every node refusing it from its next call on, while
// another client's calls go on. The worker learns the revocation from trustd (its own process, its own store).
import { expect } from 'chai';
import { Agent, request } from 'node:https';
import { writeFileSync } from 'node:fs';
import type { NodeCredentials } from '../../src/server/rotation/node-client.js';
import { OLD_OS_CA, RotationCluster, credentials } from '../server/rotation-cluster.js';

interface Answer {
  status: number;
  body: string;
  /** The local port of the connection the call went over: the same port is the same kept-alive connection. */
  localPort: number;
}

/** GET /v1/version over `agent` (one kept-alive connection per node). */
function version(address: string, creds: NodeCredentials, agent: Agent): Promise<Answer> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path: '/v1/version', method: 'GET', agent, ca: creds.ca, cert: creds.cert, key: creds.key }, (res) => {
      // Read now: once the body is read the socket goes back to the agent and the response lets go of it.
      const localPort = res.socket.localPort ?? 0;
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, localPort }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('trustctl revoke against trustctl serve (control plane + worker, child processes)', function () {
  this.timeout(120_000);
  let cluster: RotationCluster;

  before(async () => {
    cluster = await RotationCluster.start(1);
  });
  after(async () => cluster?.destroy());

  it('refuses the revoked client on every node within a second, on its kept-alive connections, and keeps serving another', async () => {
    const leaked = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
    const other = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
    writeFileSync(cluster.box.path('leaked.crt'), leaked.cert);
    const agents = cluster.addresses.map(() => new Agent({ keepAlive: true, maxSockets: 1 }));
    try {
      const before = await Promise.all(cluster.addresses.map((a, i) => version(a, leaked, agents[i])));
      expect(before.map((r) => r.status)).to.deep.equal([200, 200]);

      const r = await cluster.box.run(['-e', cluster.addresses[0], 'revoke', '--cert', 'leaked.crt', '--reason', 'laptop stolen']);
      expect(r.code, r.stderr).to.equal(0);
      const revokedAt = Date.now();

      // Each node, polled over the same kept-alive connection until it refuses: the bound is the one second.
      for (const [i, address] of cluster.addresses.entries()) {
        let answer = await version(address, leaked, agents[i]);
        while (answer.status === 200 && Date.now() - revokedAt < 1000) answer = await version(address, leaked, agents[i]);
        expect(answer.status, `${address}: ${answer.body}`).to.equal(401);
        expect(answer.body).to.match(/certificate revoked \(serial [0-9a-f:]+, \d{4}-\d\d-\d\d \d\d:\d\d UTC: \\?"laptop stolen\\?"\); get a new one with trustctl config new/i);
        expect(answer.localPort, `${address}: the refusal came on the connection opened before the revoke`).to.equal(before[i].localPort);
      }
      for (const address of cluster.addresses) {
        const fresh = new Agent({ keepAlive: false });
        expect((await version(address, other, fresh)).status, address).to.equal(200);
        fresh.destroy();
      }
    } finally {
      for (const a of agents) a.destroy();
    }
  });
});
