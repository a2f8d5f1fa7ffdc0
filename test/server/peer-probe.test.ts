// The peer probe that the rotation tests rely on for "the control planes accept each other whenever both are up", on
// two scripted control planes mid etcd rotation (real CAs, real certificates, real mutual-TLS handshakes): it must
// report a refusal between views the nodes hold together, and none for a pair of views that never existed together
// because the rotation moved on between the reads (the flake of issue 16).
import { expect } from 'chai';
import { createCA, issueCertificateAndKey } from '../../src/pki/index.js';
import type { CertificateAuthority } from '../../src/pki/index.js';
import { newTally, probePeers } from './peer-probe.js';
import type { SpecReader } from './peer-probe.js';

interface NodeState {
  issuing: CertificateAuthority;
  accepted: CertificateAuthority[];
  peer: { crt: string; key: string };
}

async function peerLeaf(ca: CertificateAuthority, name: string): Promise<{ crt: string; key: string }> {
  const made = await issueCertificateAndKey(ca, 'etcd-peer', { algorithm: 'ecdsa', commonName: name, ipAddresses: ['127.0.0.1'] });
  return { crt: made.certPem, key: made.keyPem };
}

/**
 * Two control planes whose state a script sets before each read (1, 2, ... across both nodes, in the probe's order),
 * answering as apid would: EtcdRootSecrets and EtcdSecrets, or nothing while the node is down.
 */
function scripted(script: (read: number, nodes: Record<'cp1' | 'cp2', NodeState | undefined>) => void, cp1: NodeState, cp2: NodeState) {
  const nodes: Record<'cp1' | 'cp2', NodeState | undefined> = { cp1, cp2 };
  let reads = 0;
  const reader =
    (name: 'cp1' | 'cp2'): SpecReader =>
    async (type) => {
      script(++reads, nodes);
      const n = nodes[name];
      if (!n) return undefined;
      if (type === 'EtcdRootSecrets') return { ca: { crt: n.issuing.certPem }, acceptedCAs: n.accepted.map((c) => c.certPem) };
      return type === 'EtcdSecrets' ? { certificates: { peer: n.peer } } : undefined;
    };
  return [
    { name: 'cp-1', read: reader('cp1') },
    { name: 'cp-2', read: reader('cp2') },
  ];
}

describe('the peer probe of the rotation tests (two scripted control planes, real mutual-TLS handshakes)', () => {
  let oldCA: CertificateAuthority;
  let newCA: CertificateAuthority;
  let initial: Record<'cp1' | 'cp2', NodeState>;
  let issuingNew: Record<'cp1' | 'cp2', NodeState>;
  before(async () => {
    [oldCA, newCA] = await Promise.all([createCA('etcd', { algorithm: 'ecdsa' }), createCA('etcd', { algorithm: 'ecdsa' })]);
    initial = {
      cp1: { issuing: oldCA, accepted: [oldCA], peer: await peerLeaf(oldCA, 'cp-1') },
      cp2: { issuing: oldCA, accepted: [oldCA], peer: await peerLeaf(oldCA, 'cp-2') },
    };
    // Past NewCAIssuing: each node accepts both CAs and serves a new-CA certificate.
    issuingNew = {
      cp1: { issuing: newCA, accepted: [newCA, oldCA], peer: await peerLeaf(newCA, 'cp-1') },
      cp2: { issuing: newCA, accepted: [newCA, oldCA], peer: await peerLeaf(newCA, 'cp-2') },
    };
  });

  // cp-1 is read (root, leaves) before the rotation begins; the rotation reaches NewCAIssuing on both before cp-2 is
  // read; cp-1 trusting only the old CA never met cp-2 serving a new-CA certificate: no such moment existed.
  it('judges a pair on views both nodes held at one moment: no refusal when the rotation moved on between the reads and the first node went down (issue 16)', async () => {
    const nodes = scripted(
      (read, n) => {
        if (read === 3) Object.assign(n, issuingNew);
        // Killed just then (the test's SIGKILL), started again two reads later.
        if (read === 5) n.cp1 = undefined;
        if (read === 7) n.cp1 = issuingNew.cp1;
      },
      initial.cp1,
      initial.cp2,
    );
    const tally = newTally();
    await probePeers('etcd', nodes, tally);
    expect(tally.failures).to.deep.equal([]);
    // cp-1 -> cp-2 was skipped (cp-1 down when read again); cp-2 -> cp-1 met both after the move.
    expect(tally.handshakes).to.equal(1);
    expect(tally.crossed).to.equal(0);
  });

  it('judges a pair on views both nodes held at one moment: no refusal when the trust of the first node moved on between the reads but not its certificate', async () => {
    // cp-1 accepts the new CA (and issues from it) but has not re-issued its certificate yet when read again.
    const lagging = { ...issuingNew.cp1, peer: initial.cp1.peer };
    const nodes = scripted((read, n) => read === 3 && Object.assign(n, { cp1: lagging, cp2: issuingNew.cp2 }), initial.cp1, initial.cp2);
    const tally = newTally();
    await probePeers('etcd', nodes, tally);
    expect(tally.failures).to.deep.equal([]);
    expect(tally.handshakes).to.equal(2);
  });

  it('reports each refusal between views the nodes hold together (one trusting only the new CA while its peer is still on the old)', async () => {
    const cp1: NodeState = { issuing: newCA, accepted: [newCA], peer: issuingNew.cp1.peer };
    const cp2: NodeState = { issuing: oldCA, accepted: [oldCA, newCA], peer: initial.cp2.peer };
    const tally = newTally();
    await probePeers('etcd', scripted(() => undefined, cp1, cp2), tally);
    // cp-1 as the client refuses cp-2's old-CA certificate; as the server it refuses cp-2's old-CA client certificate.
    expect(tally.failures).to.have.length(2);
    expect(tally.failures[0]).to.match(/^etcd: cp-1 -> cp-2: client: self-signed certificate in certificate chain/);
    expect(tally.failures[1]).to.match(/^etcd: cp-2 -> cp-1: server refused the client certificate/);
    expect(tally.handshakes).to.equal(2);
    expect(tally.crossed).to.equal(2);
  });

  it('judges a pair of views met before by its earlier verdict, without another handshake, and counts a refusal again', async () => {
    const cp1: NodeState = { issuing: newCA, accepted: [newCA], peer: issuingNew.cp1.peer };
    const cp2: NodeState = { issuing: oldCA, accepted: [oldCA, newCA], peer: initial.cp2.peer };
    const tally = newTally();
    for (let round = 0; round < 3; round++) await probePeers('etcd', scripted(() => undefined, cp1, cp2), tally);
    expect(tally.handshakes).to.equal(2);
    expect(tally.failures).to.have.length(6);
    expect(new Set(tally.failures).size).to.equal(2);
    expect(tally.crossed).to.equal(6);
  });
});
