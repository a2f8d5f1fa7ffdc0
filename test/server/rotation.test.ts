// The Talos API CA rotated across real `trustctl serve` processes: zero failed calls with a valid certificate while it
// runs, the old certificate refused once the old CA is dropped, and SIGKILLs of the control plane along the way.
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import type { PemCertAndKey } from '../../src/config/index.js';
import { ROTATION_PHASES, phaseIndex } from '../../src/resources/ca-rotation.js';
import type { CARotationSpec, RotationPhase } from '../../src/resources/ca-rotation.js';
import type { IssuedCertificatesSpec } from '../../src/resources/issued-certificates.js';
import type { NodeCredentials } from '../../src/server/rotation/node-client.js';
import { verifyStrict } from '../pki/openssl.js';
import { OLD_OS_CA, RotationCluster, credentials } from './rotation-cluster.js';
import { pacedRounds } from './paced-rounds.js';

async function newOsCA(): Promise<PemCertAndKey> {
  const ca = await createCA('os', { algorithm: 'ed25519', now: new Date(Date.now() - 300_000) });
  return { crt: ca.certPem, key: encodePrivateKeyPem(ca.key) };
}

/** The rotation as the control plane reports it, read with whichever admin certificate it accepts now. */
async function observe(cluster: RotationCluster, creds: NodeCredentials[]): Promise<CARotationSpec | undefined> {
  for (const c of creds) {
    const answer = await cluster.call(cluster.controlPlane, c, 'GET', '/v1/resources/CARotations/os');
    if (answer.status === 404) return undefined;
    if (answer.error === undefined) return (answer.body as { spec: CARotationSpec }).spec;
  }
  throw new Error('the control plane refused every credential');
}

const at = (phase: RotationPhase | undefined) => (phase ? phaseIndex(phase) : -1);

function startRotation(cluster: RotationCluster, creds: NodeCredentials, next: PemCertAndKey) {
  const [cp, ...workers] = cluster.addresses;
  return cluster.call(cluster.controlPlane, creds, 'POST', '/v1/carotations', { ca: 'os', newCA: next, controlPlanes: [cp], workers });
}

describe('CA rotation of the Talos API CA across real nodes (trustctl serve child processes)', function () {
  this.timeout(90_000);

  describe('with a client calling every node throughout', () => {
    let cluster: RotationCluster;
    before(async () => {
      cluster = await RotationCluster.start(2);
    });
    after(async () => cluster?.destroy());

    it('never fails a call made with a valid certificate; the old talosconfig works until the old CA is dropped, then gets "unknown authority"', async () => {
      const next = await newOsCA();
      const both = [OLD_OS_CA.crt, next.crt];
      const oldCreds = await credentials(OLD_OS_CA, both);
      const newCreds = await credentials(next, both);
      // The talosconfig as it was before the rotation: the old client certificate, and only the old CA for the servers.
      const oldTalosconfig = await credentials(OLD_OS_CA, [OLD_OS_CA.crt]);
      const failures: string[] = [];
      const counts = { oldAccepted: 0, newAccepted: 0, oldTalosconfigOnNewLeaves: 0 };
      const seen = new Set<string>();
      // Set once the test has seen the rotation Done; the prober then stops at the end of a round in which it saw Done
      // itself (stopping it at once raced with it: under load it could end without ever observing the last phase).
      let rotationDone = false;

      // The last worker, while the test holds the rotation (below): stopped, so the prober leaves it alone.
      const held = cluster.members[cluster.members.length - 1];
      let holding = false;

      const prober = (async () => {
        while (!(rotationDone && seen.has('Done'))) {
          for (const m of cluster.members) {
            if (m === held && holding) continue;
            const before = (await observe(cluster, [oldCreds, newCreds]))?.phase;
            if (before) seen.add(before);
            if (at(before) >= at('NewCAAccepted')) {
              const answer = await cluster.call(m, newCreds, 'GET', '/v1/version');
              if (answer.error === undefined) counts.newAccepted++;
              else failures.push(`${m.name} refused the new certificate in phase ${before}: ${answer.error}`);
            }
            const oldAnswer = await cluster.call(m, oldCreds, 'GET', '/v1/version');
            const talosconfigAnswer = await cluster.call(m, oldTalosconfig, 'GET', '/v1/version');
            const after = (await observe(cluster, [oldCreds, newCreds]))?.phase;
            if (after) seen.add(after);
            // The old CA is dropped only after LeavesReissued is recorded: until then the old certificate must work,
            // and so must the old talosconfig, whose client trusts a new-CA server certificate only through the
            // cross-signed CA the node sends with it.
            if (at(after) < at('LeavesReissued')) {
              if (oldAnswer.error === undefined) counts.oldAccepted++;
              else failures.push(`${m.name} refused the old certificate in phase ${after ?? 'none'}: ${oldAnswer.error}`);
              if (talosconfigAnswer.error !== undefined) failures.push(`the old talosconfig failed on ${m.name} in phase ${after ?? 'none'}: ${talosconfigAnswer.error}`);
              else if (at(before) >= at('NewCAIssuing')) counts.oldTalosconfigOnNewLeaves++;
            }
          }
        }
      })();

      const started = await startRotation(cluster, oldCreds, next);
      expect(started.status, started.error).to.equal(200);
      const body = JSON.stringify(started.body);
      expect(body).to.not.include('PRIVATE KEY');
      expect((started.body as { spec: CARotationSpec }).spec.phase).to.equal('Staged');

      // The old talosconfig must work on a node that serves new-CA leaves while the old CA is still accepted: from the
      // node's NewCAIssuing until the driver records LeavesReissued, a few hundred milliseconds that the prober met only
      // by chance (under load it missed them, and the count below was 0). The test holds that window open: once the new
      // CA is accepted everywhere it stops the last worker (SIGSTOP). The driver moves the nodes in order, control plane
      // first, and cannot record LeavesReissued without that worker; so the control plane re-issues from the new CA and
      // still accepts the old one for as long as the worker is stopped.
      // No pause between reads: the driver needs well over a second from here to LeavesReissued, even unloaded.
      let phase: RotationPhase | undefined;
      do phase = (await observe(cluster, [oldCreds, newCreds]))?.phase;
      while (at(phase) < at('NewCAAccepted'));
      held.process!.signal('SIGSTOP');
      holding = true;
      try {
        phase = (await observe(cluster, [oldCreds, newCreds]))?.phase;
        expect(at(phase), `the rotation went past NewCAIssuing (${phase}) before the test could hold it`).to.be.below(at('LeavesReissued'));
        const newCA = new X509Certificate(next.crt);
        await cluster.until('the control plane serves an API certificate from the new CA', async () => {
          const api = await cluster.call(cluster.controlPlane, newCreds, 'GET', '/v1/resources/ApiCertificates/api');
          const server = (api.body as { spec?: IssuedCertificatesSpec } | undefined)?.spec?.certificates.server;
          return server !== undefined && new X509Certificate(server.crt).verify(newCA.publicKey);
        });
        const during = await observe(cluster, [oldCreds, newCreds]);
        expect(at(during?.phase), 'the rotation moved on while the worker was stopped').to.be.below(at('LeavesReissued'));
        const answer = await cluster.call(cluster.controlPlane, oldTalosconfig, 'GET', '/v1/version');
        if (answer.error === undefined) counts.oldTalosconfigOnNewLeaves++;
        else failures.push(`the old talosconfig failed on ${cluster.controlPlane.name} serving a new-CA leaf in phase ${during?.phase}: ${answer.error}`);
      } finally {
        held.process!.signal('SIGCONT');
        holding = false;
      }

      await cluster.until('the rotation is Done', async () => (await observe(cluster, [oldCreds, newCreds]))?.phase === 'Done');
      rotationDone = true;
      await prober;

      expect(failures).to.deep.equal([]);
      expect(counts.oldAccepted).to.be.greaterThan(0);
      expect(counts.newAccepted).to.be.greaterThan(0);
      // Calls made after every node was told to issue from the new CA: the old talosconfig met new-CA leaves.
      expect(counts.oldTalosconfigOnNewLeaves).to.be.greaterThan(0);
      expect(seen.has('Done')).to.equal(true);

      const spec = (await observe(cluster, [newCreds]))!;
      expect(spec.nodes.map((n) => [n.address, n.role, n.phase])).to.deep.equal(cluster.members.map((m) => [cluster.address(m), m.role, 'Done']));
      expect(spec.newCA.fingerprint).to.equal(new X509Certificate(next.crt).fingerprint256);
      expect(spec.oldCA.fingerprint).to.equal(new X509Certificate(OLD_OS_CA.crt).fingerprint256);
      expect(spec.lastError).to.equal(undefined);
      // the keys the rotation held (the old CA's among them) are gone from the control plane's store
      await cluster.until('the rotation keys are removed', async () => (await cluster.call(cluster.controlPlane, newCreds, 'GET', '/v1/resources/CARotationSecrets/os')).status === 404);

      const newOnly = await credentials(next, [next.crt]);
      for (const m of cluster.members) {
        const refused = await cluster.call(m, oldCreds, 'GET', '/v1/version');
        expect(refused.status, m.name).to.equal(401);
        expect(refused.error).to.equal('x509: certificate signed by unknown authority');
        // The old talosconfig's client no longer finds a chain to its CA: the cross-signed CA went with the old CA.
        expect((await cluster.call(m, oldTalosconfig, 'GET', '/v1/version')).error, m.name).to.equal('unable to verify the first certificate');
        expect((await cluster.call(m, newOnly, 'GET', '/v1/version')).error, m.name).to.equal(undefined);
        // openssl, not our parser, judges that every node now serves a certificate from the new CA.
        const api = await cluster.call(m, newOnly, 'GET', '/v1/resources/ApiCertificates/api');
        const server = (api.body as { spec: IssuedCertificatesSpec }).spec.certificates.server;
        expect(verifyStrict(next.crt, server.crt, 'sslserver').ok, m.name).to.equal(true);
        expect(verifyStrict(OLD_OS_CA.crt, server.crt, 'sslserver').ok, m.name).to.equal(false);
      }
    });
  });

  describe('when the control plane is killed (SIGKILL) in a middle phase', () => {
    let cluster: RotationCluster;
    before(async () => {
      cluster = await RotationCluster.start(1);
    });
    after(async () => cluster?.destroy());

    it('continues from the recorded phase after each restart and finishes, killed again at every later phase it is seen in; no node that answers refuses the current certificate', async () => {
      const next = await newOsCA();
      const both = [OLD_OS_CA.crt, next.crt];
      const oldCreds = await credentials(OLD_OS_CA, both);
      const newCreds = await credentials(next, both);
      expect((await startRotation(cluster, oldCreds, next)).status).to.equal(200);
      const cp = cluster.controlPlane;

      // The certificate a person should be using: the old one until the new CA is accepted everywhere, then the new one.
      // The phase is the control plane's; while it is down nothing moves, so the last one seen holds.
      const failures: string[] = [];
      const unanswered = new Set<string>();
      let answered = 0;
      let known: RotationPhase | undefined;
      let stop = false;
      const prober = pacedRounds(
        () => stop,
        async () => {
          for (const m of cluster.members) {
            known = (await observe(cluster, [oldCreds, newCreds]).catch(() => undefined))?.phase ?? known;
            const answer = await cluster.call(m, at(known) >= at('NewCAAccepted') ? newCreds : oldCreds, 'GET', '/v1/version');
            if (answer.status === 0) unanswered.add(m.name);
            else if (answer.error !== undefined) failures.push(`${m.name} in ${known ?? 'Staged'}: ${answer.error}`);
            else answered++;
          }
        },
      );
      const killedIn = await cluster.killInEachPhase(cp, async () => (await observe(cluster, [oldCreds, newCreds]))?.phase);
      stop = true;
      await prober;
      expect(failures).to.deep.equal([]);
      expect(answered).to.be.greaterThan(0);
      // Only the killed control plane ever went without answering.
      expect([...unanswered].filter((name) => name !== cp.name)).to.deep.equal([]);
      expect(killedIn.length).to.be.greaterThan(0);
      for (const phase of killedIn) expect(ROTATION_PHASES.slice(1, -1)).to.include(phase);
      expect(killedIn.map(at)).to.deep.equal([...killedIn.map(at)].sort((x, y) => x - y));

      const newOnly = await credentials(next, [next.crt]);
      for (const m of cluster.members) {
        expect((await cluster.call(m, newOnly, 'GET', '/v1/version')).error, m.name).to.equal(undefined);
        expect((await cluster.call(m, oldCreds, 'GET', '/v1/version')).error, m.name).to.equal('x509: certificate signed by unknown authority');
      }
      expect(cp.process!.stderr).to.match(/rotation reached phase/);
      // Restarted with the --config file from before the rotation, the node kept the rotated config from its store.
      expect(cp.process!.stderr).to.contain('msg="machine config file unchanged since it was applied: keeping the stored config');
    });
  });
});
