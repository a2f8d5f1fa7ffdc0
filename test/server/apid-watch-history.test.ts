// The end of the chain in issue 11: a watch of OSRootSecrets from bookmark 0 must not hand back the node's previous OS
// CA key from the store's history after the CA has changed.
import { expect } from 'chai';
import { parseMachineConfig } from '../../src/config/index.js';
import { createCA, encodePrivateKeyPem } from '../../src/pki/index.js';
import { MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import type { MachineConfigSpec, OSRootSecretsSpec } from '../../src/resources/index.js';
import { ApidHarness } from './apid-harness.js';
import { readWatch } from './apid-stream.js';

/** The base64 body of a PEM block: what would show in any encoding of the key that kept it whole. */
const pemBody = (pem: string) => pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');

describe('apid watch of a sensitive type from bookmark 0', function () {
  this.timeout(60_000);
  let h: ApidHarness;
  before(async () => (h = await ApidHarness.start()));
  after(async () => h?.close());

  it('replays OSRootSecrets only as it is now: the OS CA key it replaced is not in the stream', async () => {
    const state = h.node.node.state;
    const old = h.bundle.certs.os;
    const made = await createCA('os', { algorithm: 'ed25519', now: new Date(h.now().getTime() - 300_000) });
    const next = { crt: made.certPem, key: encodePrivateKeyPem(made.key) };
    await state.modify<MachineConfigSpec>({ namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID }, (current) => {
      const config = parseMachineConfig(current!.spec.yaml);
      config.osCA = next;
      config.acceptedCAs = [old.crt];
      return { spec: { yaml: config.toYaml() } };
    });
    await h.node.settle();
    const root = await state.get<OSRootSecretsSpec>({ namespace: 'secrets', type: 'OSRootSecrets', id: 'os' });
    expect(root.spec.issuingCA.crt).to.equal(next.crt);
    expect(root.metadata.version).to.be.greaterThan(1);

    const admin = await h.role('os:admin');
    const trusted = `${old.crt}\n${next.crt}`;
    const stream = await readWatch(h.apid.port, trusted, admin, '/v1/watch/osrootsecrets?since=0', (lines) =>
      lines.some((l) => l.resource?.metadata.version === root.metadata.version),
    );
    expect(stream.status, stream.body).to.equal(200);
    expect(stream.lines.map((l) => [l.type, l.resource?.metadata.version])).to.deep.equal([['updated', root.metadata.version]]);
    expect(stream.body).to.contain(pemBody(next.key));
    expect(stream.body).not.to.contain(pemBody(old.key));
  });
});
