import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { DateTime } from 'luxon';
import { parseMachineConfig } from '../../src/config/index.js';
import { parsePrivateKeyPem, samePublicKey } from '../../src/pki/index.js';
import { ApiCertificates, CertSANs, CertificateStatuses, MACHINE_CONFIG_ID, MachineConfigs, TrustdCertificates, TrustdResponses } from '../../src/resources/index.js';
import type { CertSANsSpec, CertificateStatusSpec, IssuedCertificatesSpec, MachineConfigSpec, TrustdResponseSpec } from '../../src/resources/index.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import type { Node } from '../../src/server/node.js';
import { startTrustdClient } from '../../src/server/trustd-client/index.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import { verifyStrict, x509Text } from '../pki/openssl.js';
import { Cluster, bundle, find, serverCert } from './worker-cluster.js';

const OS_CA = bundle.certs.os.crt;

describe('a worker joins through trustd (control plane + worker in-process, real trustd on 127.0.0.1)', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let worker: Node;

  before(async () => {
    cluster = new Cluster(new ManualClock(DateTime.utc().startOf('second')));
    const cp = await cluster.node('controlplane', '10.5.0.2', 'cp-1');
    worker = await cluster.node('worker', '10.5.0.3', 'worker-1');
    await cluster.until(async () => (await find(cp.state, TrustdCertificates, 'trustd')) !== undefined, 'control plane issued its trustd certificate');
    cluster.trustd = await startTrustd({ state: cp.state, host: '127.0.0.1', port: 0, clock: cluster.clock });
    cluster.startClient(worker, `127.0.0.1:${cluster.trustd.port}`);
  });
  after(async () => cluster.destroy());

  it("gives the worker an apid server certificate that chains to the OS CA, and its CertificateStatus turns Valid", async () => {
    await cluster.until(async () => (await serverCert(worker)) !== undefined, 'worker apid certificate installed');
    const api = (await find<IssuedCertificatesSpec>(worker.state, ApiCertificates, 'api'))!;
    const server = api.spec.certificates.server;
    expect(api.spec.pending).to.equal(undefined);
    expect(api.metadata.owner).to.equal('ApiCertificateController');
    expect(verifyStrict(OS_CA, server.crt, 'sslserver').ok).to.equal(true);
    expect(server).to.include({ issuer: 'os', reason: 'DoesNotExist', issuedAt: cluster.clock.now().toJSDate().toISOString() });
    const sans = (await find<CertSANsSpec>(worker.state, CertSANs, 'api'))!.spec;
    expect(server.request).to.deep.include({ profile: 'node-server', commonName: 'talos-node', organizations: [], dnsNames: sans.dnsNames, ipAddresses: sans.ips });
    expect(x509Text(server.crt)).to.match(/DNS:worker-1, IP Address:10\.5\.0\.3, IP Address:127\.0\.0\.1/);
    expect(samePublicKey(new X509Certificate(server.crt).publicKey, parsePrivateKeyPem(server.key).publicKey)).to.equal(true);
    const stored = (await find<TrustdResponseSpec>(worker.state, TrustdResponses, 'api'))!;
    expect(stored.metadata.owner).to.equal('trustd-client');
    expect(stored.spec.response?.crt).to.equal(server.crt);
    expect(server.renewAt).to.equal(stored.spec.response?.renewAt);
    await cluster.until(async () => (await find<CertificateStatusSpec>(worker.state, CertificateStatuses, 'api-server'))?.spec.state === 'Valid', 'status Valid');
    const status = (await find<CertificateStatusSpec>(worker.state, CertificateStatuses, 'api-server'))!.spec;
    expect(status.chainsToAcceptedCA).to.equal(true);
    expect(status.lastIssuanceReason).to.equal('DoesNotExist');
  });

  it('leaves a control-plane node alone: the client there asks for nothing', async () => {
    const cp = cluster.nodes[0];
    const idle = startTrustdClient({ state: cp.state, endpoints: [`127.0.0.1:${cluster.trustd!.port}`], clock: cluster.clock });
    try {
      await cluster.until(async () => true, 'settled');
      await idle.settled();
      expect(await find(cp.state, TrustdResponses, 'api')).to.equal(undefined);
      expect((await serverCert(cp))!.issuer).to.equal('os');
    } finally {
      await idle.close();
    }
  });

  it('renews through trustd at the renewal time (2/3 to 9/10 of the 24 h life), with a new key', async () => {
    const before = (await serverCert(worker))!;
    const renewAt = DateTime.fromISO(before.renewAt, { zone: 'utc' });
    const lifeFraction = (renewAt.toMillis() - Date.parse(before.issuedAt)) / (24 * 3_600_000);
    expect(lifeFraction).to.be.within(2 / 3, 0.9);
    await cluster.clock.set(renewAt.minus({ seconds: 1 }));
    await cluster.until(async () => true, 'settled before the renewal time');
    expect((await serverCert(worker))!.crt).to.equal(before.crt);
    await cluster.clock.set(renewAt);
    await cluster.until(async () => (await serverCert(worker))!.crt !== before.crt, 'renewed certificate installed');
    const after = (await serverCert(worker))!;
    expect(after.reason).to.equal('Renewing');
    expect(after.key).to.not.equal(before.key);
    expect(after.issuedAt).to.equal(renewAt.toJSDate().toISOString());
    expect(verifyStrict(OS_CA, after.crt, 'sslserver', renewAt.toJSDate()).ok).to.equal(true);
  });

  it('asks again when the SANs change, and the new certificate names them', async () => {
    const pointer = { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID };
    const mc = await worker.state.get<MachineConfigSpec>(pointer);
    const config = parseMachineConfig(mc.spec.yaml);
    config.certSANs = [...config.certSANs, 'worker-1.example.test'];
    await worker.state.update<MachineConfigSpec>({ ...mc, spec: { yaml: config.toYaml() } });
    await cluster.until(async () => (await serverCert(worker))!.reason === 'RequestChanged', 'certificate for the new SANs');
    expect(x509Text((await serverCert(worker))!.crt)).to.include('DNS:worker-1.example.test');
  });
});

describe('a worker whose trustd is down', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let worker: Node;
  let cp: Node;
  let port: number;

  before(async () => {
    cluster = new Cluster(new ManualClock(DateTime.utc().startOf('second')));
    cp = await cluster.node('controlplane', '10.5.0.2', 'cp-1');
    worker = await cluster.node('worker', '10.5.0.3', 'worker-1');
    await cluster.until(async () => (await find(cp.state, TrustdCertificates, 'trustd')) !== undefined, 'control plane issued its trustd certificate');
    // A port where trustd was and is no more.
    const gone = await startTrustd({ state: cp.state, host: '127.0.0.1', port: 0, clock: cluster.clock });
    port = gone.port;
    await gone.close();
    cluster.startClient(worker, `127.0.0.1:${port}`);
  });
  after(async () => cluster.destroy());

  const failure = async () => (await find<TrustdResponseSpec>(worker.state, TrustdResponses, 'api'))?.spec.failure;

  it('retries with exponential backoff, and the pending reason names the failure', async () => {
    await cluster.until(async () => (await failure()) !== undefined, 'first failure recorded');
    const first = (await failure())!;
    expect(first.attempts).to.equal(1);
    expect(first.message).to.match(new RegExp(`^127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
    expect(Date.parse(first.nextRetry) - Date.parse(first.lastAttempt)).to.equal(1000);
    const api = (await find<IssuedCertificatesSpec>(worker.state, ApiCertificates, 'api'))!.spec;
    expect(api.certificates).to.deep.equal({});
    expect(api.pending).to.equal(`waiting for trustd: attempt 1 failed: ${first.message}; next retry at ${first.nextRetry}`);
    const status = (await find<CertificateStatusSpec>(worker.state, CertificateStatuses, 'api-server'))!.spec;
    expect(status.state).to.equal('Pending');
    expect(status.message).to.include('ECONNREFUSED');

    // Nothing happens before the retry is due; then the delay doubles.
    await cluster.clock.advance({ milliseconds: 999 });
    await cluster.until(async () => true, 'settled before the retry');
    expect((await failure())!.attempts).to.equal(1);
    await cluster.clock.advance({ milliseconds: 1 });
    await cluster.until(async () => (await failure())!.attempts === 2, 'second attempt');
    const second = (await failure())!;
    expect(Date.parse(second.nextRetry) - Date.parse(second.lastAttempt)).to.equal(2000);
  });

  it('gets its certificate on the next retry once trustd is back', async () => {
    cluster.trustd = await startTrustd({ state: cp.state, host: '127.0.0.1', port, clock: cluster.clock });
    await cluster.clock.set(DateTime.fromISO((await failure())!.nextRetry, { zone: 'utc' }));
    await cluster.until(async () => (await serverCert(worker)) !== undefined, 'certificate after trustd came back');
    const api = (await find<IssuedCertificatesSpec>(worker.state, ApiCertificates, 'api'))!.spec;
    expect(api.pending).to.equal(undefined);
    expect(verifyStrict(OS_CA, api.certificates.server.crt, 'sslserver').ok).to.equal(true);
    expect((await find<TrustdResponseSpec>(worker.state, TrustdResponses, 'api'))!.spec.failure).to.equal(undefined);
  });
});
