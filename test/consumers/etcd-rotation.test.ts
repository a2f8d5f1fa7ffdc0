import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { DateTime } from 'luxon';
import { filter, firstValueFrom } from 'rxjs';
import type { PemCertAndKey } from '../../src/config/index.js';
import { caFromPem, createCA, encodePrivateKeyPem, encodePrivateKeyPkcs8Pem, issueCertificateAndKey, parsePrivateKeyPem } from '../../src/pki/index.js';
import { CARotations, EtcdSecrets } from '../../src/resources/index.js';
import type { CARotationSpec, IssuedCertificatesSpec, RotationPhase } from '../../src/resources/index.js';
import { startApid } from '../../src/server/apid/index.js';
import type { Apid } from '../../src/server/apid/index.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import { startRotationDriver } from '../../src/server/rotation/index.js';
import { NodeHarness, fixtureBundle } from '../controllers/node-harness.js';
import { credentials } from '../server/rotation-cluster.js';
import { ETCD, EtcdMembers, clientFiles, etcdctl } from '../support/etcd-members.js';
import type { MemberFiles, Pair } from '../support/etcd-members.js';
import { EtcdWriter } from '../support/etcd-writer.js';
import { haveGo } from '../support/go-program.js';
import { setUpNetns } from '../support/netns.js';
import type { NetnsSet } from '../support/netns.js';

const bundle = fixtureBundle();
const MEMBERS = 3;
const PREFIX = '/registry/rotation/';

const pkcs8 = (key: string) => encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(key));
const pair = (c: { crt: string; key: string }): Pair => ({ crt: c.crt, key: pkcs8(c.key) });
const caBundle = (pems: readonly string[]) => `${pems.map((p) => p.trim()).join('\n')}\n`;
const memberFiles = (set: IssuedCertificatesSpec): MemberFiles => ({ ca: caBundle(set.acceptedCAs), server: pair(set.certificates.server), peer: pair(set.certificates.peer) });
const sameFiles = (a: MemberFiles | undefined, b: MemberFiles) => a?.ca === b.ca && a.server.crt === b.server.crt && a.peer.crt === b.peer.crt;
/** A bundle's certificates in a fixed order: etcd trusts a set, whatever order the file lists it in. */
const caSet = (text: string) => (text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).sort().join('\n');
const issuedBy = (cert: X509Certificate, ca: string) => cert.verify(new X509Certificate(ca).publicKey);

/** What the operator did to a member when its node reached a phase. */
interface Action {
  member: string;
  phase: RotationPhase;
  did: 'restarted' | 'reloaded';
  leaderMoved?: boolean;
  putsWhileDown?: number;
  /** For a reload: how many members had been started again on the new trust bundle (NewCAAccepted) before it. */
  restartsBefore?: number;
}

/**
 * One TLS 1.2 handshake with a member (TLS 1.2, so the member judges the client certificate inside the handshake):
 * the certificate it served, or the alert it refused ours with.
 */
function handshake(host: string, port: number, client: Pair): Promise<{ served?: X509Certificate; error?: string }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, cert: client.crt, key: client.key, maxVersion: 'TLSv1.2', rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      const served = new X509Certificate(socket.getPeerCertificate().raw);
      socket.destroy();
      resolve({ served });
    });
    socket.once('error', (err) => resolve({ error: err.message }));
  });
}

/**
 * Issue 13's last requirement: the etcd CA rotated by the product (`rotate-ca --etcd --etcd-endpoints`: the CARotation
 * the rotation driver moves the control planes through, over their apid) under a three-member etcd cluster that keeps
 * running on those control planes' certificates, while kube-apiserver's etcd client keeps writing. Each control plane
 * hands its member the files its EtcdSecrets hold whenever they change, as a node does; etcd 3.4 takes a new certificate
 * and key at its next handshake but its trusted CA files only at start-up, so the driver waits at each phase until every
 * member shows it, and the operator does what the rotation's lastError says: restart the members whose bundle changed,
 * one at a time, with leadership moved away first and the member drained from the writer's endpoints. Two etcd
 * behaviours (not the certificates') would fail a put there, so the test avoids them and says how: a member shutting
 * down answers a request with an empty HTTP 200, hence the drain; a leader drops the proposals that arrive while it hands
 * leadership over, hence the writer holding its next put for the move alone (measured, asserted short). The nodes run on
 * their ManualClocks; the driver's waits run on cp-1's, which the test moves along in small steps while etcd (another
 * process, on wall time) does its part.
 */
describe('the etcd CA rotated under a running three-member etcd cluster while writes continue', function () {
  this.timeout(120_000);
  const nodes: NodeHarness[] = [];
  const apids: Apid[] = [];
  let netns: NetnsSet | undefined;
  let dir: string;
  let members: EtcdMembers;
  let started: MemberFiles[];
  /** Stops what the test started beside the cluster (writer, driver, watches); after() calls it too, should the test throw. */
  let stopRotation: (() => Promise<void>) | undefined;

  const etcdSet = async (h: NodeHarness) => (await h.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type: EtcdSecrets.type, id: 'etcd' })).spec;

  before(async function () {
    // CI installs etcd-server, etcd-client and golang-go (the writer is a Go program)
    if (!existsSync(ETCD) || spawnSync('etcdctl', ['version']).status !== 0 || !haveGo()) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'etcd-rotation-'));
    netns = setUpNetns(MEMBERS, 'tr');
    const addresses = netns?.addresses ?? ['127.0.0.21', '127.0.0.22', '127.0.0.23'];
    const start = DateTime.utc();
    for (let i = 0; i < MEMBERS; i++) {
      const h = await NodeHarness.start({ bundle, start, addresses: [addresses[i]], hostname: `etcd-${i + 1}` });
      nodes.push(h);
      const apid = await startApid({ state: h.node.state, registry: h.node.registry, host: '127.0.0.1', port: 0, clock: h.clock });
      await apid.ready;
      apids.push(apid);
    }
    const sets = await Promise.all(nodes.map(etcdSet));
    started = sets.map(memberFiles);
    members = await EtcdMembers.start(dir, netns, addresses, started, clientFiles(dir, caBundle(sets[0].acceptedCAs), pair(sets[0].certificates.admin)));
  });

  after(async () => {
    await stopRotation?.();
    await members?.stopAll();
    netns?.tearDown();
    for (const a of apids) await a.close();
    for (const h of nodes) await h.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every put succeeds through the rotation, every key reads back, and only the new CA is trusted at the end', async () => {
    const [cp1] = nodes;
    const old = bundle.certs.etcd;
    const made = await createCA('etcd', { algorithm: 'ecdsa', now: cp1.clock.now().minus({ minutes: 5 }).toJSDate() });
    const next: PemCertAndKey = { crt: made.certPem, key: encodePrivateKeyPem(made.key) };
    // A client certificate of the new CA made here, to ask a member whether it trusts that CA yet.
    const probe = await issueCertificateAndKey(caFromPem(next.crt, next.key), 'apiserver-etcd-client', { now: cp1.clock.now().minus({ minutes: 5 }).toJSDate() });
    const newCAClient: Pair = { crt: probe.certPem, key: encodePrivateKeyPkcs8Pem(probe.key) };
    const before = await etcdSet(cp1);
    const oldClient = pair(before.certificates['apiserver-etcd-client']);
    expect(issuedBy(new X509Certificate(oldClient.crt), old.crt)).to.equal(true);

    // kube-apiserver on cp-1: its etcd client certificate and CA bundle as cp-1 holds them at each moment.
    let writerFiles = clientFiles(dir, caBundle(before.acceptedCAs), oldClient);
    let draining: number | undefined;
    const writer = new EtcdWriter(() => members.endpoints.filter((_, i) => i !== draining), () => writerFiles, PREFIX);
    stopRotation = () => writer.stop();

    const written: MemberFiles[] = [...started];
    const actions: Action[] = [];
    // Members started again with the new trust bundle. Counted as each restart begins: the member serves, and the
    // driver may see it trust the new CA and go on, before the restart's health check has come back.
    let newTrustRestarts = 0;
    const findings: string[] = [];
    const name = (i: number) => `etcd-${i + 1}`;
    const host = (i: number) => members.addresses[i];
    let fail: (err: unknown) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (fail = reject));

    /** A control plane's part: whenever its EtcdSecrets change, hand its member (and cp-1's kube-apiserver) the files. */
    const sync = async (i: number) => {
      const set = await etcdSet(nodes[i]);
      if (i === 0) {
        writerFiles = clientFiles(dir, caBundle(set.acceptedCAs), pair(set.certificates['apiserver-etcd-client']));
        members.admin = clientFiles(dir, caBundle(set.acceptedCAs), pair(set.certificates.admin));
      }
      const files = memberFiles(set);
      if (sameFiles(written[i], files)) return;
      const leavesOnly = caSet(files.ca) === caSet(members.loadedCA(i));
      written[i] = files;
      members.write(i, files);
      if (!leavesOnly) return; // a new trust bundle waits for the operator's restart
      // etcd reads its certificate and key files on each handshake: a new connection meets the new ones at once
      for (const port of [2379, 2380]) {
        const met = await handshake(host(i), port, pair(set.certificates.admin));
        if (met.served?.fingerprint256 !== new X509Certificate(port === 2379 ? files.server.crt : files.peer.crt).fingerprint256)
          findings.push(`${name(i)}:${port}: did not serve its new certificate without a restart (${met.error ?? met.served?.subject})`);
      }
      actions.push({ member: name(i), phase: 'NewCAIssuing', did: 'reloaded', restartsBefore: newTrustRestarts });
    };
    const syncing = nodes.map((h, i) => {
      let queue = Promise.resolve();
      return h.node.state.watch({ namespace: 'secrets', type: EtcdSecrets.type, id: 'etcd' }).subscribe(() => (queue = queue.then(() => sync(i)).catch(fail)));
    });

    /** The operator's part: when the rotation says to restart the members, restart each one whose trust bundle changed. */
    const roll = async (i: number, phase: RotationPhase) => {
      // the file holds the new CA already, but etcd read its trusted CA file at start-up: the new CA's client is refused
      if (phase === 'NewCAAccepted' && !(await handshake(host(i), 2379, newCAClient)).error) findings.push(`${name(i)} trusted the new CA before its restart`);
      // Leadership leaves the member first, with no put in flight: etcd 3.4 drops the proposals that reach the leader
      // during a transfer ("raft proposal dropped", or a timeout for one forwarded by a follower), CA or no CA.
      const leaderMoved = await members.leads(i);
      if (leaderMoved) await writer.pausedFor(() => members.moveLeaderAwayFrom(i));
      // Drained first, as a health-checking balancer in front of etcd would: etcd 3.4 with TLS answers a request that
      // arrives while it shuts down with an empty HTTP 200 ("transport: missing content-type field"), a failed put.
      draining = i;
      await writer.afterPuts(1); // the put in flight, which may have gone to this member, has ended
      await members.stop(i);
      const from = writer.completed;
      // writes go on while the member is down (the other two keep quorum)
      await writer.afterPuts(2);
      if (phase === 'NewCAAccepted') newTrustRestarts++;
      await members.restart(i);
      draining = undefined;
      actions.push({ member: name(i), phase, did: 'restarted', leaderMoved, putsWhileDown: writer.completed - from });
      if (phase === 'NewCAAccepted' && (await handshake(host(i), 2379, newCAClient)).error) findings.push(`${name(i)} refused the new CA's client after its restart`);
    };
    const told: string[] = [];
    let rolling = Promise.resolve();
    const rotationAt = { namespace: CARotations.namespace, type: CARotations.type, id: 'etcd' };
    const operator = cp1.node.state.watch<CARotationSpec>(rotationAt).subscribe((e) => {
      const error = e.resource?.spec.lastError;
      const asked = error && /after (\w+): .*restart the etcd members/.exec(error);
      if (!asked) return;
      if (!told.includes(error)) told.push(error);
      rolling = rolling
        .then(async () => {
          const stale = written.flatMap((f, i) => (caSet(f.ca) !== caSet(members.loadedCA(i)) ? [i] : []));
          for (const i of stale) await roll(i, asked[1] as RotationPhase);
          // the driver retries after its backoff, on cp-1's clock: let that time pass now rather than wait it out
          if (stale.length) await cp1.clock.advanceToNext(cp1.clock.now().plus({ seconds: 31 }));
        })
        .catch(fail);
    });

    const driver = startRotationDriver({ state: cp1.node.state, clock: cp1.clock, audit: cp1.node.audit, pollMs: 20 });
    // The driver waits between looks at a node on cp-1's clock; it moves in step with the wall time etcd runs on.
    let pumping = true;
    const pump = (async () => {
      while (pumping) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        await cp1.clock.advance({ milliseconds: 20 });
      }
    })();
    stopRotation = async () => {
      operator.unsubscribe();
      for (const s of syncing) s.unsubscribe();
      pumping = false;
      await pump;
      await driver.close();
      await writer.stop();
    };

    const startedAt = Date.now();
    const admin = await credentials(bundle.certs.os, [bundle.certs.os.crt]);
    const apidAddress = (a: Apid) => `127.0.0.1:${a.port}`;
    const request = { ca: 'etcd', newCA: next, controlPlanes: apids.map(apidAddress), workers: [], etcdEndpoints: members.addresses.map((a) => `${a}:2379`) };
    const post = await callNode(apidAddress(apids[0]), admin, 'POST', '/v1/carotations', request);
    expect(post.status, post.error).to.equal(200);
    try {
      await Promise.race([firstValueFrom(cp1.node.state.watch<CARotationSpec>(rotationAt).pipe(filter((e) => e.resource?.spec.phase === 'Done'))), failed]);
      await rolling;
    } finally {
      await stopRotation();
    }
    const seconds = (Date.now() - startedAt) / 1000;

    // Every put was one attempt, and every one succeeded.
    expect(writer.failures, `${writer.failures.length} of ${writer.attempted} puts failed`).to.deep.equal([]);
    expect(writer.written.size).to.equal(writer.attempted);
    expect(findings).to.deep.equal([]);
    const final = (await cp1.node.state.get<CARotationSpec>(rotationAt)).spec;
    expect(final.lastError).to.equal(undefined);
    expect(final.nodes.map((n) => `${n.phase}${n.error ? ` ${n.error}` : ''}`)).to.deep.equal(['Done', 'Done', 'Done']);
    // The rotation waited for the members twice, and said why: to trust the new CA, and to stop trusting the old one.
    expect(told.some((t) => /after NewCAAccepted: etcd at \S+ refuses a client certificate of the new etcd CA/.test(t)), told.join('\n')).to.equal(true);
    expect(told.some((t) => /after OldCADropped: etcd at \S+ still accepts a client certificate of the old etcd CA/.test(t)), told.join('\n')).to.equal(true);
    // The operator's work: a rolling restart for each new trust bundle, nothing but new files for the re-issued leaves.
    const did = (phase: RotationPhase, what: Action['did']) => nodes.map((_, i) => `${name(i)} ${phase} ${what}`);
    const labels = (phase: RotationPhase) => actions.filter((a) => a.phase === phase).map((a) => `${a.member} ${a.phase} ${a.did}`);
    expect(labels('NewCAAccepted')).to.deep.equal(did('NewCAAccepted', 'restarted'));
    expect(labels('NewCAIssuing')).to.have.members(did('NewCAIssuing', 'reloaded'));
    expect(labels('OldCADropped')).to.deep.equal(did('OldCADropped', 'restarted'));
    // No member got a leaf of the new CA before every member had been started again trusting it (each restart is
    // recorded when its health check returns, which may be after the driver has seen the member trust the new CA)...
    for (const a of actions.filter((x) => x.did === 'reloaded')) expect(a.restartsBefore, `${a.member} reloaded`).to.equal(MEMBERS);
    // ...and the old CA was dropped from the members only after each had taken its new-CA leaves.
    const lastReload = actions.map((a) => a.did).lastIndexOf('reloaded');
    expect(actions.findIndex((a) => a.phase === 'OldCADropped'), 'a member restarted to drop the old CA before every reload').to.be.greaterThan(lastReload);
    for (const a of actions.filter((x) => x.did === 'restarted')) expect(a.putsWhileDown, `${a.member} ${a.phase}`).to.be.at.least(2);
    // leadership was moved at least once in each rolling restart (the leader of the moment is restarted too)
    for (const phase of ['NewCAAccepted', 'OldCADropped']) expect(actions.some((a) => a.phase === phase && a.leaderMoved), phase).to.equal(true);
    // the writes were held back only while leadership moved, each time for well under a second or two
    expect(writer.pauses).to.have.length(actions.filter((a) => a.leaderMoved).length);
    for (const ms of writer.pauses) expect(ms).to.be.below(2_000);
    for (let i = 0; i < MEMBERS; i++) expect(members.loadedCA(i), name(i)).to.equal(caBundle([next.crt]));

    // Every key written reads back from the cluster, and from each member's own copy.
    const newClient = clientFiles(dir, caBundle([next.crt]), pair((await etcdSet(cp1)).certificates['apiserver-etcd-client']));
    const readAll = async (endpoints: string[], local: boolean) => {
      const r = await etcdctl(['get', '--prefix', PREFIX, ...(local ? ['--consistency', 's'] : [])], { endpoints, client: newClient });
      expect(r.code, r.out).to.equal(0);
      const lines = r.out.trim().split('\n');
      return new Map(lines.flatMap((line, k) => (k % 2 === 0 ? [[line, lines[k + 1]] as [string, string]] : [])));
    };
    expect(await readAll(members.endpoints, false)).to.deep.equal(writer.written);
    for (const endpoint of members.endpoints) expect((await readAll([endpoint], true)).size, endpoint).to.equal(writer.written.size);

    // kube-apiserver's old certificate is refused by every member, and writes nothing; a new one works everywhere.
    for (let i = 0; i < MEMBERS; i++) {
      expect((await handshake(host(i), 2379, oldClient)).error, name(i)).to.match(/bad certificate|unknown ca/i);
      const refused = await etcdctl(['put', `${PREFIX}old-client`, 'x'], { endpoints: [members.endpoint(i)], client: clientFiles(dir, caBundle([next.crt]), oldClient), dialTimeout: '1s', commandTimeout: '2s' });
      expect(refused.code, name(i)).not.to.equal(0);
      const put = await etcdctl(['put', `${PREFIX}new-client-${i}`, 'ok'], { endpoints: [members.endpoint(i)], client: newClient });
      expect(put.out.trim(), name(i)).to.equal('OK');
    }
    const after = await readAll(members.endpoints, false);
    expect(after.has(`${PREFIX}old-client`)).to.equal(false);
    expect([...after.keys()].filter((k) => k.includes('new-client'))).to.have.length(MEMBERS);
    console.log(`      etcd CA rotation: ${writer.attempted} puts attempted, ${writer.written.size} succeeded, ${writer.failures.length} failed in ${seconds.toFixed(1)} s; writes held ${JSON.stringify(writer.pauses)} ms for leader moves; ${JSON.stringify(actions)}`);
  });
});
