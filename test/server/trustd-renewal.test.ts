import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { DateTime } from 'luxon';
import { filter, firstValueFrom } from 'rxjs';
import { caFromPem, createCA, createCsr, encodePrivateKeyPkcs8Pem, generateKeyPairSync, issueCertificate } from '../../src/pki/index.js';
import type { CertificateAuthority, LeafProfile } from '../../src/pki/index.js';
import { parseMachineConfig } from '../../src/config/index.js';
import { AuditRecords, JoinTokens, MACHINE_CONFIG_ID, MachineConfigs, Revocations, TrustdCertificates, TrustdResponses } from '../../src/resources/index.js';
import type { AuditRecordSpec, JoinTokenSpec, MachineConfigSpec, RevocationSpec, TrustdResponseSpec } from '../../src/resources/index.js';
import { normalSerial } from '../../src/resources/revocations.js';
import { ManualClock } from '../../src/runtime/manual-clock.js';
import type { State } from '../../src/runtime/state.js';
import { checkJoinTokenRequest, createJoinToken, setStaticTokenMode } from '../../src/server/join-tokens/index.js';
import type { Node } from '../../src/server/node.js';
import { revokeCertificate } from '../../src/server/revocation/index.js';
import { startRevocationFollower } from '../../src/server/trustd-client/index.js';
import type { RevocationFollower } from '../../src/server/trustd-client/index.js';
import { fetchRevocations } from '../../src/server/trustd-client/fetch-revocations.js';
import { postCsr } from '../../src/server/trustd-client/post-csr.js';
import { startTrustd } from '../../src/server/trustd/index.js';
import type { Trustd } from '../../src/server/trustd/index.js';
import { NodeHarness } from '../controllers/node-harness.js';
import { verifyStrict } from '../pki/openssl.js';
import { rejection } from '../support/caught.js';
import { Cluster, bundle, find, serverCert } from './worker-cluster.js';

const OS_CA = bundle.certs.os.crt;
const JOIN_AGAIN = 'join again with a token (trustctl token create)';

interface LogLine {
  message: string;
  fields?: Record<string, unknown>;
}

const signedLines = (logs: LogLine[]) => logs.filter((l) => l.message === 'trustd signed a certificate');

/** The worker's config with a join token as machine.token in place of the static one. */
function withToken(yaml: string, token: string): string {
  const parts = yaml.split(bundle.trustdInfo.token);
  expect(parts, 'the static token appears once in the generated config').to.have.length(2);
  return parts.join(token);
}

describe('a worker joined with a single-use join token renews with its current certificate and follows revocations with the static token off', function () {
  this.timeout(60_000);
  let cluster: Cluster;
  let cp: Node;
  let worker: Node;
  let follower: RevocationFollower;
  let joinToken: string;
  let joinId: string;
  const logs: LogLine[] = [];
  const endpoint = () => `127.0.0.1:${cluster.trustd!.port}`;
  const storedToken = async () => (await find<JoinTokenSpec>(cp.state, JoinTokens, joinId))!;
  const response = async () => (await find<TrustdResponseSpec>(worker.state, TrustdResponses, 'api'))?.spec.response;

  before(async () => {
    cluster = new Cluster(new ManualClock(DateTime.utc().startOf('second')));
    cp = await cluster.node('controlplane', '10.5.0.2', 'cp-1');
    await cluster.until(async () => (await find(cp.state, TrustdCertificates, 'trustd')) !== undefined, 'control plane issued its trustd certificate');
    await setStaticTokenMode(cp.state, 'refused', 'test');
    const made = await createJoinToken(cp.state, checkJoinTokenRequest({ uses: 1 }), 'test', cluster.clock.now().toJSDate());
    joinToken = made.token;
    joinId = made.resource.metadata.id;
    worker = await cluster.node('worker', '10.5.0.3', 'worker-1', (yaml) => withToken(yaml, joinToken));
    cluster.trustd = await startTrustd({ state: cp.state, host: '127.0.0.1', port: 0, clock: cluster.clock, rateLimit: false, logger: (message, fields) => logs.push({ message, fields }) });
    cluster.startClient(worker, endpoint());
    // Short real-time backoff: until its certificate arrives the follower has only the join token, which trustd refuses.
    follower = startRevocationFollower({ state: worker.state, endpoints: [endpoint()], clock: cluster.clock, backoff: { initialMs: 20, multiplier: 2, maxMs: 200, jitter: 0 } });
  });
  after(async () => {
    await follower?.close();
    await cluster?.destroy();
  });

  it('joins with the join token, which is then used up', async () => {
    await cluster.until(async () => (await serverCert(worker)) !== undefined, 'worker apid certificate installed');
    expect((await response())?.auth).to.equal('token');
    const spent = await storedToken();
    expect(spent.spec).to.include({ used: 1, uses: 1 });
    const again = await rejection(
      postCsr({ endpoint: { host: '127.0.0.1', port: cluster.trustd!.port }, csr: createCsr(generateKeyPairSync('ecdsa'), { commonName: 'talos-node' }), token: joinToken, trusted: [new X509Certificate(OS_CA)], at: cluster.clock.now().toJSDate(), timeoutMs: 10_000 }),
    );
    expect(again.message).to.equal('trustd answered 401: token already used (1 of 1 use): ask an admin for a new one (trustctl token create)');
  });

  it('renews at its renewal time on the manual clock with its current certificate and no token, spending nothing', async () => {
    const before = (await serverCert(worker))!;
    const tokenVersion = (await storedToken()).metadata.version;
    const renewAt = DateTime.fromISO(before.renewAt, { zone: 'utc' });
    await cluster.clock.set(renewAt);
    await cluster.until(async () => (await serverCert(worker))!.crt !== before.crt, 'renewed certificate installed');
    const after = (await serverCert(worker))!;
    expect(after.reason).to.equal('Renewing');
    expect(after.issuedAt).to.equal(renewAt.toJSDate().toISOString());
    expect(after.key).to.not.equal(before.key);
    expect(verifyStrict(OS_CA, after.crt, 'sslserver', renewAt.toJSDate()).ok).to.equal(true);
    expect((await response())?.auth).to.equal('certificate');
    expect((await storedToken()).metadata.version, 'the join token is untouched').to.equal(tokenVersion);
    const serial = new X509Certificate(before.crt).serialNumber;
    expect(signedLines(logs).at(-1)?.fields?.token).to.equal(`renewal with certificate ${serial}`);
  });

  it('learns a revocation recorded on the control plane although its token is spent and the static token is off', async () => {
    const leaked = issueCertificate(caFromPem(OS_CA, bundle.certs.os.key), 'talos-client', { publicKey: generateKeyPairSync('ecdsa').publicKey, now: cluster.clock.now().toJSDate(), commonName: 'laptop' });
    const arrived = firstValueFrom(worker.state.watchKind<RevocationSpec>({ namespace: Revocations.namespace, type: Revocations.type }).pipe(filter((e) => e.type === 'created')));
    await revokeCertificate({ cert: leaked.certPem, reason: 'laptop stolen' }, { state: cp.state, clock: cluster.clock, by: 'test' });
    const event = await arrived;
    expect(event.resource?.spec).to.include({ serial: normalSerial(leaked.cert.serialNumber), reason: 'laptop stolen' });
  });

  it('asks with its token when its SANs gain a name (a certificate never vouches for a new name), and keeps its certificate when the token is spent', async () => {
    const held = (await serverCert(worker))!;
    const signed = signedLines(logs).length;
    const pointer = { namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID };
    const mc = await worker.state.get<MachineConfigSpec>(pointer);
    const config = parseMachineConfig(mc.spec.yaml);
    config.certSANs = [...config.certSANs, 'worker-1.example.test'];
    await worker.state.update<MachineConfigSpec>({ ...mc, spec: { yaml: config.toYaml() } });
    const failure = async () => (await find<TrustdResponseSpec>(worker.state, TrustdResponses, 'api'))?.spec.failure;
    await cluster.until(async () => (await failure()) !== undefined, 'request for the new name refused');
    expect((await failure())!.message).to.match(/: trustd answered 401: token already used \(1 of 1 use\)/);
    expect((await serverCert(worker))!.crt).to.equal(held.crt);
    expect(signedLines(logs)).to.have.length(signed);
  });
});

describe('trustd refuses a certificate renewal or revocation list that the presented certificate does not justify, issuing nothing', function () {
  this.timeout(60_000);
  let h: NodeHarness;
  let trustd: Trustd;
  let osCA: CertificateAuthority;
  const logs: LogLine[] = [];
  const trusted = [new X509Certificate(OS_CA)];
  const port = () => ({ host: '127.0.0.1', port: trustd.port });
  const now = () => h.clock.now().toJSDate();

  interface Presented {
    crt: string;
    key: string;
  }
  /** A certificate as trustd issues it to a node (or, with another profile, to a talosctl client). */
  const certificate = (o: { ca?: CertificateAuthority; at?: Date; names?: string[]; profile?: LeafProfile } = {}): Presented => {
    const key = generateKeyPairSync('ecdsa');
    const names = o.names ?? ['worker-7', '10.0.0.7', '127.0.0.1'];
    const issued = issueCertificate(o.ca ?? osCA, o.profile ?? 'node-server', {
      publicKey: key.publicKey,
      now: o.at ?? now(),
      validityHours: 24,
      commonName: o.profile ? 'laptop' : 'talos-node',
      dnsNames: names.filter((n) => !/^[\d.]+$/.test(n)),
      ipAddresses: names.filter((n) => /^[\d.]+$/.test(n)),
    });
    return { crt: issued.certPem, key: encodePrivateKeyPkcs8Pem(key) };
  };
  const csr = (names: string[]) =>
    createCsr(generateKeyPairSync('ecdsa'), { commonName: 'talos-node' }, { dnsNames: names.filter((n) => !/^[\d.]+$/.test(n)), ipAddresses: names.filter((n) => /^[\d.]+$/.test(n)) });
  const renew = (presented: Presented | undefined, names: string[], token?: string) =>
    postCsr({ endpoint: port(), csr: csr(names), ...(presented ? { clientCertificate: presented } : {}), ...(token ? { token } : {}), trusted, at: now(), timeoutMs: 10_000 });
  const revocationList = (presented: Presented | undefined, token?: string) =>
    fetchRevocations({ endpoint: port(), ...(presented ? { clientCertificate: presented } : {}), ...(token ? { token } : {}), etag: '', trusted, at: now(), timeoutMs: 10_000 });
  const tokens = async (state: State) => (await state.list<JoinTokenSpec>({ namespace: JoinTokens.namespace, type: JoinTokens.type })).map((t) => `${t.metadata.id}@${t.metadata.version}:${t.spec.used}`);

  /** The refusal's message, after checking that nothing was signed and no join token use was spent. */
  async function refusedWithNothingIssued(call: () => Promise<unknown>): Promise<string> {
    const signed = signedLines(logs).length;
    const held = await tokens(h.node.state);
    const message = (await rejection(call())).message;
    expect(signedLines(logs).length, 'certificates signed').to.equal(signed);
    expect(await tokens(h.node.state), 'join tokens').to.deep.equal(held);
    return message;
  }

  before(async () => {
    h = await NodeHarness.start({ bundle, start: DateTime.utc().startOf('second'), addresses: ['10.5.0.2'], hostname: 'cp-1' });
    trustd = await startTrustd({ state: h.node.state, host: '127.0.0.1', port: 0, clock: h.clock, rateLimit: false, logger: (message, fields) => logs.push({ message, fields }), audit: h.node.audit });
    osCA = caFromPem(OS_CA, bundle.certs.os.key);
    await setStaticTokenMode(h.node.state, 'refused', 'test');
    // A live token in the store: no refusal below may spend a use of it.
    await createJoinToken(h.node.state, checkJoinTokenRequest({ uses: 5 }), 'test', now());
  });
  after(async () => {
    await trustd.close();
    await h.destroy();
  });

  it('renews a current node certificate without a token, for its names or fewer, and openssl verifies the new one', async () => {
    const presented = certificate();
    const answer = await renew(presented, ['10.0.0.7', 'WORKER-7']);
    expect(verifyStrict(OS_CA, answer.crt, 'sslserver').ok).to.equal(true);
    expect(new X509Certificate(answer.crt).subjectAltName).to.equal('DNS:WORKER-7, IP Address:10.0.0.7');
    const serial = new X509Certificate(presented.crt).serialNumber;
    expect(signedLines(logs).at(-1)?.fields?.token).to.equal(`renewal with certificate ${serial}`);
    await h.node.audit.flushed();
    const issued = (await h.node.state.list<AuditRecordSpec>({ namespace: AuditRecords.namespace, type: AuditRecords.type })).map((r) => r.spec).filter((r) => r.action === 'certificate-issued').at(-1);
    expect(issued?.actor).to.equal(`certificate ${serial}`);
    expect(issued?.details).to.deep.include({ issuedBy: 'trustd', renewedCertificate: serial, serial: new X509Certificate(answer.crt).serialNumber.toUpperCase() });
  });

  it('refuses a CSR asking for a name the presented certificate does not carry (403)', async () => {
    expect(await refusedWithNothingIssued(() => renew(certificate(), ['10.0.0.7', '10.0.0.9']))).to.equal(
      `trustd answered 403: certificate renewal: the CSR asks for 10.0.0.9, which the presented certificate does not carry: ${JOIN_AGAIN}`,
    );
    expect(await refusedWithNothingIssued(() => renew(certificate(), ['worker-8']))).to.equal(`trustd answered 403: certificate renewal: the CSR asks for worker-8, which the presented certificate does not carry: ${JOIN_AGAIN}`);
  });

  it('refuses an expired certificate (401)', async () => {
    const expired = certificate({ at: new Date(now().getTime() - 48 * 3_600_000) });
    expect(await refusedWithNothingIssued(() => renew(expired, ['10.0.0.7']))).to.match(
      new RegExp(`^trustd answered 401: certificate renewal: the presented certificate is not valid now \\(x509: certificate has expired or is not yet valid: current time \\S+ is after \\S+\\): ${escape(JOIN_AGAIN)}$`),
    );
  });

  it('refuses a certificate from a foreign CA (401)', async () => {
    const foreign = await createCA('os', { now: now() });
    expect(await refusedWithNothingIssued(() => renew(certificate({ ca: foreign }), ['10.0.0.7']))).to.equal(
      `trustd answered 401: certificate renewal: the presented certificate is not from an accepted OS CA (x509: certificate signed by unknown authority): ${JOIN_AGAIN}`,
    );
  });

  it("refuses a talosctl client certificate: it is not a node's apid certificate (401)", async () => {
    const client = certificate({ profile: 'talos-client', names: [] });
    expect(await refusedWithNothingIssued(() => renew(client, []))).to.match(/^trustd answered 401: certificate renewal: the presented certificate is not a node's apid certificate \(x509: .* lacks serverAuth\)\): join again/);
  });

  it('refuses a revoked certificate (403), even for a CSR that asks for none of its names', async () => {
    const revoked = certificate({ names: ['revoked-node', '10.0.0.66'] });
    await revokeCertificate({ cert: revoked.crt, reason: 'node compromised' }, { state: h.node.state, clock: h.clock, by: 'test' });
    await h.settle();
    const serial = normalSerial(new X509Certificate(revoked.crt).serialNumber);
    expect(await refusedWithNothingIssued(() => renew(revoked, []))).to.match(
      new RegExp(`^trustd answered 403: certificate renewal: rule "revoked certificate": the presented certificate is revoked: certificate revoked \\(serial ${serial}, .*"node compromised"\\); trustd signs nothing for it until an admin lifts it with trustctl revoke --undo --serial ${serial}$`),
    );
    expect(await refusedWithNothingIssued(() => revocationList(revoked))).to.match(/^trustd answered 403 to \/v1\/revocations: revocation list: rule "revoked certificate"/);
  });

  it('refuses a request with neither a certificate nor a token (401)', async () => {
    expect(await refusedWithNothingIssued(() => renew(undefined, ['10.0.0.7']))).to.equal(
      "trustd answered 401: missing token: send machine.token or a join token (Authorization: Bearer), or present this node's current apid certificate",
    );
  });

  it('lets a token sent beside a certificate decide alone: a used-up join token is refused although the certificate is good', async () => {
    const made = await createJoinToken(h.node.state, checkJoinTokenRequest({ uses: 1 }), 'test', now());
    await renew(undefined, ['10.0.0.7'], made.token);
    expect(await refusedWithNothingIssued(() => renew(certificate(), ['10.0.0.7'], made.token))).to.equal(
      'trustd answered 401: token already used (1 of 1 use): ask an admin for a new one (trustctl token create)',
    );
  });

  it('hands the revocation list to a current node certificate while the static token is off, and to nothing else', async () => {
    const answer = await revocationList(certificate());
    expect(answer?.revocations.map((r) => r.reason)).to.include('node compromised');
    expect((await rejection(revocationList(undefined, bundle.trustdInfo.token))).message).to.match(/^trustd answered 401 to \/v1\/revocations: the static machine\.token is turned off for this cluster/);
    expect((await rejection(revocationList(undefined))).message).to.match(/^trustd answered 401 to \/v1\/revocations: missing token/);
    const expired = certificate({ at: new Date(now().getTime() - 48 * 3_600_000) });
    expect((await rejection(revocationList(expired))).message).to.match(/^trustd answered 401 to \/v1\/revocations: revocation list: the presented certificate is not valid now/);
    const foreign = certificate({ ca: await createCA('os', { now: now() }) });
    expect((await rejection(revocationList(foreign))).message).to.match(/^trustd answered 401 to \/v1\/revocations: revocation list: the presented certificate is not from an accepted OS CA/);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
