// A CA rotation whose CAs live in a PKCS#11 token (SoftHSM2): the new CA key is made in the token, the node issues
// from it through the token, and the old key is destroyed in the token once the rotation is Done.
import { expect } from 'chai';
import { encodePrivateKeyPkcs8Pem, parsePrivateKeyPem } from '../../src/pki/index.js';
import { issueClientCertificate, parseMachineConfig } from '../../src/config/index.js';
import type { PemCertAndKey, SecretsBundle } from '../../src/config/index.js';
import { generateSecretsBundle } from '../../src/config/secrets-bundle-generate.js';
import { TokenCaKeys } from '../../src/config/token-ca-keys.js';
import { openToken, tokenCaMaker } from '../../src/config/token-cas.js';
import type { Pkcs11Settings } from '../../src/config/token-cas.js';
import { memoryCaKeys } from '../../src/controllers/certificate-cache.js';
import { parsePkcs11Uri } from '../../src/pki/pkcs11/index.js';
import { CARotations, EtcdSecrets, MACHINE_CONFIG_ID, MachineConfigs } from '../../src/resources/index.js';
import type { CARotationSpec, IssuedCertificatesSpec } from '../../src/resources/index.js';
import { callNode } from '../../src/server/rotation/node-client.js';
import type { NodeCredentials } from '../../src/server/rotation/node-client.js';
import { startRotationDriver } from '../../src/server/rotation/index.js';
import { cleanupTempFiles, verifyStrict } from '../pki/openssl.js';
import { createSoftToken, listTokenObjects, pkcs11ToolMissing, softhsmMissing } from '../support/softhsm.js';
import type { SoftToken } from '../support/softhsm.js';
import { LocalCluster } from './local-cluster.js';

async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never happened: ${what}`);
}

describe('CA rotation with the CA keys in a PKCS#11 token (SoftHSM2, an in-process control plane)', function () {
  this.timeout(60_000);
  let soft: SoftToken;
  let settings: Pkcs11Settings;
  let bundle: SecretsBundle;
  let cluster: LocalCluster | undefined;
  let keys: TokenCaKeys | undefined;

  before(async function () {
    if (softhsmMissing() ?? pkcs11ToolMissing()) this.skip();
    soft = createSoftToken('rotation');
    settings = { module: soft.module, token: soft.label, pinFile: soft.pinFile };
    const token = openToken(settings);
    try {
      bundle = await generateSecretsBundle({ now: new Date(Date.now() - 300_000), newCA: tokenCaMaker(token).newCA });
    } finally {
      token.close();
    }
  });
  after(async () => {
    await cluster?.destroy();
    keys?.close();
    soft?.remove();
    cleanupTempFiles();
  });

  it('rotates the etcd CA to a new key made in the token; leaves verify against the new CA; the old key is destroyed at Done', async () => {
    keys = new TokenCaKeys(settings, memoryCaKeys);
    cluster = new LocalCluster(bundle);
    const cp = await cluster.add('controlplane', 'cp-1', keys);
    const caKeys = keys;
    const client = await issueClientCertificate(bundle.certs.os, { roles: ['os:admin'], now: new Date(Date.now() - 300_000), signingCA: (os) => caKeys.signingCA(os.crt, os.key, 'certs.os') });
    const admin: NodeCredentials = { ca: bundle.certs.os.crt, cert: client.crt, key: encodePrivateKeyPkcs8Pem(parsePrivateKeyPem(client.key)) };

    const token = openToken(settings);
    let next: PemCertAndKey;
    try {
      next = await tokenCaMaker(token).newCA('etcd', 'ecdsa', new Date(Date.now() - 300_000));
    } finally {
      token.close();
    }
    const oldId = parsePkcs11Uri(bundle.certs.etcd.key).id!.toString('hex');
    const newId = parsePkcs11Uri(next.key).id!.toString('hex');
    const ids = () => [...listTokenObjects(soft).matchAll(/ID:\s+([0-9a-f]+)/g)].map((m) => m[1]);
    expect(ids()).to.include(oldId).and.include(newId);

    const started = await callNode(cp.address, admin, 'POST', '/v1/carotations', { ca: 'etcd', newCA: next, controlPlanes: [cp.address], workers: [] });
    expect(started.status, started.error).to.equal(200);
    const driver = startRotationDriver({ state: cp.node.state, pollMs: 20, caKeys: keys });
    const rotation = async () => (await cp.node.state.get<CARotationSpec>({ namespace: CARotations.namespace, type: CARotations.type, id: 'etcd' })).spec;
    try {
      await until('the rotation is Done', async () => (await rotation()).phase === 'Done');
    } finally {
      await driver.close();
    }

    const config = parseMachineConfig((await cp.node.state.get<{ yaml: string }>({ namespace: 'config', type: MachineConfigs.type, id: MACHINE_CONFIG_ID })).spec.yaml);
    expect(config.etcdCA?.key).to.equal(next.key);
    const etcd = await cp.node.state.get<IssuedCertificatesSpec>({ namespace: 'secrets', type: EtcdSecrets.type, id: 'etcd' });
    for (const [name, issued] of Object.entries(etcd.spec.certificates)) {
      const verdict = verifyStrict(next.crt, issued.crt);
      expect(verdict.ok, `${name}: ${verdict.out}`).to.equal(true);
    }
    // the old etcd CA key is gone from the token (both halves); the new one and the other CAs' keys stay
    const after = ids();
    expect(after).to.include(newId).and.not.include(oldId);
    expect(after.filter((id) => id === newId)).to.have.length(2);
  });
});
