import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { expect } from 'chai';
import { issueCertificateAndKey, caFromPem } from './apid-pki.js';
import { startApid } from '../../src/server/apid/index.js';
import { CARotations, ROTATION_DRIVER_OWNER } from '../../src/resources/ca-rotation.js';
import { KnownNodes } from '../../src/server/apid/known-nodes.js';
import { ApidHarness, credential } from './apid-harness.js';
import { readWatch } from './apid-stream.js';

interface Listed {
  metadata: { id: string };
  spec: { serial: string; source: { type: string; name: string } };
}

const apiServerSerial = (listed: Listed[]) => listed.find((r) => r.spec.source.type === 'ApiCertificates' && r.spec.source.name === 'server')?.spec.serial;

/** A TCP listener that counts the connections it gets: proof that a refused forward dialled nothing. */
async function decoy(): Promise<{ server: Server; address: string; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => count };
}

describe('apid -n forwarding between two nodes', function () {
  let a: ApidHarness;
  let b: ApidHarness;
  // A member of A's cluster that listens but is no apid, and a host:port no one told A about.
  let member: Awaited<ReturnType<typeof decoy>>;
  let stranger: Awaited<ReturnType<typeof decoy>>;

  before(async () => {
    member = await decoy();
    stranger = await decoy();
    b = await ApidHarness.start({ hostname: 'node-b' });
    a = await ApidHarness.start({ hostname: 'node-a', apid: { forward: { members: [b.address, member.address, '127.0.0.1:1'] } } });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    member?.server.close();
    stranger?.server.close();
  });

  it("answers a call through the endpoint with the target node's resources", async () => {
    const reader = await a.role('os:reader');
    const direct = await b.request(reader, 'GET', '/v1/resources/cs');
    const viaA = await a.request(reader, 'GET', '/v1/resources/cs', undefined, { 'trustplane-node': b.address });
    const ownA = await a.request(reader, 'GET', '/v1/resources/cs');
    expect(viaA.status, viaA.body).to.equal(200);
    const serial = apiServerSerial(JSON.parse(viaA.body) as Listed[]);
    expect(serial).to.be.a('string');
    expect(serial).to.equal(apiServerSerial(JSON.parse(direct.body) as Listed[]));
    expect(serial).to.not.equal(apiServerSerial(JSON.parse(ownA.body) as Listed[]));
  });

  it("answers a forwarded read of a secret to an admin and refuses it to a reader (the caller's roles decide)", async () => {
    const reader = await a.role('os:reader');
    const admin = await a.role('os:admin');
    const refused = await a.request(reader, 'GET', '/v1/resources/osrootsecrets/os', undefined, { 'trustplane-node': b.address });
    expect(refused.status).to.equal(403);
    expect(refused.json).to.deep.equal({ error: 'not authorized' });
    const allowed = await a.request(admin, 'GET', '/v1/resources/osrootsecrets/os', undefined, { 'trustplane-node': b.address });
    expect(allowed.status).to.equal(200);
  });

  it('refuses a caller the endpoint does not accept before forwarding anything', async () => {
    const [none] = await a.matrixCredentials();
    const answer = await a.request(none, 'GET', '/v1/resources/cs', undefined, { 'trustplane-node': b.address });
    expect(answer.status).to.equal(401);
    expect(answer.json).to.deep.equal({ error: "tls: client didn't provide a certificate" });
  });

  it('gives an impersonator certificate only the roles it passes on, and none of its own', async () => {
    const certs = await a.node.node.state.get<{ certificates: Record<string, { crt: string; key: string }> }>({ namespace: 'secrets', type: 'ApiCertificates', id: 'api' });
    const impersonator = credential('impersonator', certs.spec.certificates.impersonator);
    const bare = await b.request(impersonator, 'GET', '/v1/resources/cs');
    expect(bare.status).to.equal(403);
    const asReader = await b.request(impersonator, 'GET', '/v1/resources/cs', undefined, { 'trustplane-roles': 'os:reader' });
    expect(asReader.status).to.equal(200);
    const loop = await b.request(impersonator, 'GET', '/v1/resources/cs', undefined, { 'trustplane-roles': 'os:reader', 'trustplane-node': a.address });
    expect(loop.json).to.deep.equal({ error: 'a forwarded call is not forwarded again' });
  });

  it('streams a forwarded watch', async () => {
    const reader = await a.role('os:reader');
    const watched = await readWatch(a.apid.port, a.caPem, reader, '/v1/watch/cs', (lines) => lines.some((l) => l.type === 'bootstrapped'), { 'trustplane-node': b.address });
    expect(watched.status).to.equal(200);
    const direct = await b.request(reader, 'GET', '/v1/resources/cs');
    const serial = apiServerSerial(JSON.parse(direct.body) as Listed[]);
    expect(watched.lines.some((l) => (l.resource?.spec as { serial?: string } | undefined)?.serial === serial)).to.equal(true);
  });

  it('says which member could not be reached', async () => {
    const reader = await a.role('os:reader');
    const answer = await a.request(reader, 'GET', '/v1/resources/cs', undefined, { 'trustplane-node': '127.0.0.1:1' });
    expect(answer.status).to.equal(502);
    expect(answer.json.error).to.match(/^forwarding to node "127\.0\.0\.1:1": connect ECONNREFUSED/);
  });

  it('refuses a node the cluster does not know with "unknown node" alone, and dials nothing', async () => {
    const admin = await a.role('os:admin');
    for (const target of [stranger.address, `localhost:${stranger.address.split(':')[1]}`, '10.255.255.1', '127.0.0.1:1234', 'example.com:443']) {
      const answer = await a.request(admin, 'GET', '/v1/version', undefined, { 'trustplane-node': target });
      expect(answer.status, target).to.equal(400);
      expect(answer.json, target).to.deep.equal({ error: 'unknown node' });
    }
    expect(stranger.connections()).to.equal(0);
  });

  it('forwards to the node itself by any of its names at the apid port (no port: the apid port)', async () => {
    const reader = await a.role('os:reader');
    for (const target of ['127.0.0.1', a.address]) {
      const answer = await a.request(reader, 'GET', '/v1/version', undefined, { 'trustplane-node': target });
      expect(answer.status, `${target}: ${answer.body}`).to.equal(200);
    }
  });

  it('refuses a forward the caller\'s roles do not allow at the endpoint, before dialling the member', async () => {
    const reader = await a.role('os:reader');
    const etcdBackup = await a.role('os:etcd:backup');
    const ca = caFromPem(a.bundle.certs.os.crt, a.bundle.certs.os.key);
    const issued = await issueCertificateAndKey(ca, 'talos-client', { now: a.now(), algorithm: ca.key.algorithm, organizations: [] });
    expect(new X509Certificate(issued.certPem).subject).to.equal('CN=talosctl-client');
    const noRole = credential('no role', { crt: issued.certPem, key: issued.keyPem });
    const calls: [typeof reader, string, string, unknown][] = [
      [noRole, 'GET', '/v1/version', undefined],
      [noRole, 'GET', '/v1/resources/cs', undefined],
      [reader, 'GET', '/v1/resources/osrootsecrets/os', undefined],
      [reader, 'PATCH', '/v1/machineconfig', { patches: ['machine:\n  certSANs: [x.example.com]\n'] }],
      [etcdBackup, 'GET', '/v1/watch/cs', undefined],
    ];
    for (const [cred, method, path, body] of calls) {
      const answer = await a.request(cred, method, path, body, { 'trustplane-node': member.address });
      expect(answer.status, `${cred.name} ${method} ${path}`).to.equal(403);
      expect(answer.json).to.deep.equal({ error: 'not authorized' });
    }
    expect(member.connections()).to.equal(0);
    // The same reader may read what it may read: the member is dialled (it is no apid, so the call fails there).
    const allowed = await a.request(reader, 'GET', '/v1/resources/cs', undefined, { 'trustplane-node': member.address });
    expect(allowed.status).to.equal(502);
    expect(member.connections()).to.equal(1);
  });

  it('knows a node by any spelling of its address, and only at the apid port unless a member names another', async () => {
    const known = new KnownNodes(a.node.node.state, 50000, ['[::1]', 'Node-C.example.', '10.5.0.9:7000']);
    const cases: [string, number, boolean][] = [
      ['0:0:0:0:0:0:0:1', 50000, true],
      ['node-c.example', 50000, true],
      ['node-c.example', 50001, false],
      ['10.5.0.9', 7000, true],
      ['10.5.0.9', 50000, false],
      // this node's own names (CertSANs): its address, its hostname
      ['127.0.0.1', 50000, true],
      ['NODE-A', 50000, true],
      ['127.0.0.1', 50001, false],
      ['127.0.0.2', 50000, false],
    ];
    for (const [host, port, want] of cases) expect(await known.includes({ host, port }), `${host}:${port}`).to.equal(want);
  });

  it('still forwards, and still refuses unknown nodes, when a stored CA rotation names an address that does not parse (fuzz finding: KnownNodes threw, a 500 for every -n call)', async () => {
    // what POST /v1/carotations stored before it checked addresses: a port out of range
    const at = { namespace: CARotations.namespace, type: CARotations.type, id: 'etcd' };
    const now = a.now().toISOString();
    const spec = {
      ca: 'etcd', phase: 'Done', nodes: [{ address: '10.5.0.2:99999', role: 'controlplane', phase: 'Done' }],
      newCA: { subject: 'O=etcd', fingerprint: 'AA', notAfter: now }, oldCA: { subject: 'O=etcd', fingerprint: 'BB' }, started: now, updated: now,
    };
    await a.node.node.state.create({ metadata: at, spec }, { owner: ROTATION_DRIVER_OWNER });
    try {
      const reader = await a.role('os:reader');
      const own = await a.request(reader, 'GET', '/v1/version', undefined, { 'trustplane-node': a.address });
      expect(own.status, own.body).to.equal(200);
      const unknown = await a.request(reader, 'GET', '/v1/version', undefined, { 'trustplane-node': stranger.address });
      expect(unknown.status, unknown.body).to.equal(400);
      expect(unknown.json).to.deep.equal({ error: 'unknown node' });
      const unreadable = await a.request(reader, 'GET', '/v1/version', undefined, { 'trustplane-node': '10.5.0.2:99999' });
      expect(unreadable.status, unreadable.body).to.equal(400);
      expect(unreadable.json.error).to.equal('node address "10.5.0.2:99999": port must be 1-65535, got "99999"');
      expect(stranger.connections()).to.equal(0);
    } finally {
      await a.node.node.state.destroy(at, { owner: ROTATION_DRIVER_OWNER });
    }
  });

  it('refuses to start with a member that is no address, naming it', async () => {
    const started = startApid({ state: a.node.node.state, registry: a.node.node.registry, port: 0, forward: { members: ['10.5.0.3:0'] } });
    const refused = await started.then(
      async (apid) => {
        await apid.close();
        return 'started';
      },
      (err: Error) => err.message,
    );
    expect(refused).to.equal('node address "10.5.0.3:0": port must be 1-65535, got "0"');
  });
});
