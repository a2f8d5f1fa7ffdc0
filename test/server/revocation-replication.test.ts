import { expect } from 'chai';
import { request } from 'node:https';
import { DateTime } from 'luxon';
import { filter, firstValueFrom } from 'rxjs';
import { Revocations } from '../../src/resources/index.js';
import type { RevocationSpec } from '../../src/resources/index.js';
import { startApid } from '../../src/server/apid/index.js';
import type { Apid } from '../../src/server/apid/index.js';
import { REVOCATION_FOLLOWER_OWNER, startRevocationFollower, startTrustdClient } from '../../src/server/trustd-client/index.js';
import type { RevocationFollower, TrustdClient } from '../../src/server/trustd-client/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { ApidHarness, callApid } from './apid-harness.js';
import type { Credential } from './apid-harness.js';

describe('revocations replicate to workers: a worker long-polls trustd and its apid refuses the revoked certificate', function () {
  this.timeout(60_000);
  let cp: ApidHarness;
  let trustd: Trustd;
  let worker: NodeHarness;
  let client: TrustdClient;
  let follower: RevocationFollower;
  let workerApid: Apid;
  let admin: Credential;
  const kind = { namespace: Revocations.namespace, type: Revocations.type };

  before(async () => {
    cp = await ApidHarness.start();
    trustd = await startTrustd({ state: cp.node.node.state, host: '127.0.0.1', port: 0, clock: cp.node.clock, rateLimit: false });
    worker = await NodeHarness.start({ bundle: fixtureBundle(), start: DateTime.utc().startOf('second'), type: 'worker', addresses: ['127.0.0.1'], hostname: 'w-1' });
    const endpoints = [`127.0.0.1:${trustd.port}`];
    client = startTrustdClient({ state: worker.node.state, endpoints, clock: worker.clock, random: () => 0.5 });
    follower = startRevocationFollower({ state: worker.node.state, endpoints, clock: worker.clock });
    workerApid = await startApid({ state: worker.node.state, registry: worker.node.registry, host: '127.0.0.1', port: 0, clock: worker.clock });
    // The worker's apid serves once the trustd client has its certificate installed.
    let ready = false;
    void workerApid.ready.then(() => (ready = true));
    for (let i = 0; i < 200 && !ready; i++) {
      await worker.settle();
      await client.settled();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(ready, 'the worker got its apid certificate from trustd').to.equal(true);
    admin = await cp.role('os:admin');
  });
  after(async () => {
    await follower?.close();
    await client?.close();
    await workerApid?.close();
    await worker?.destroy();
    await trustd?.close();
    await cp?.close();
  });

  const onWorker = (cred: Credential) => callApid(workerApid.port, cp.caPem, cred, 'GET', '/v1/version');

  it('refuses a talosconfig revoked on the control plane on the worker within a second, and accepts it again after --undo', async () => {
    const leaked = await cp.role('os:admin');
    expect((await onWorker(leaked)).status).to.equal(200);
    const arrived = firstValueFrom(worker.node.state.watchKind<RevocationSpec>(kind).pipe(filter((e) => e.type === 'created')));
    const started = Date.now();
    expect((await cp.request(admin, 'POST', '/v1/revocations', { cert: leaked.crt, reason: 'laptop stolen' })).status).to.equal(200);
    const event = await arrived;
    expect(Date.now() - started, 'milliseconds from revoke to the worker').to.be.lessThan(1000);
    expect(event.resource?.metadata.owner).to.equal(REVOCATION_FOLLOWER_OWNER);
    const refused = await onWorker(leaked);
    expect(refused.status).to.equal(401);
    expect(refused.json.error).to.match(/^certificate revoked \(serial [0-9a-f]+, .* UTC: "laptop stolen"\); get a new one with trustctl config new$/);
    expect((await onWorker(admin)).status, 'another certificate on the worker').to.equal(200);

    const gone = firstValueFrom(worker.node.state.watchKind(kind).pipe(filter((e) => e.type === 'destroyed')));
    expect((await cp.request(admin, 'POST', '/v1/revocations/lift', { cert: leaked.crt })).status).to.equal(200);
    await gone;
    expect((await onWorker(leaked)).status).to.equal(200);
    expect(await worker.node.state.list(kind)).to.deep.equal([]);
  });

  it('refuses the revocation list to a caller without the machine token (401), so reasons are not handed to anyone', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: trustd.port, path: '/v1/revocations', agent: false, rejectUnauthorized: false, headers: { Authorization: 'Bearer wrong.token' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).to.equal(401);
  });
});
