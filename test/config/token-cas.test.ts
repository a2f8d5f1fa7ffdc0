import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { formatSecretsBundleYaml, parseSecretsBundle, validateSecretsBundle } from '../../src/config/index.js';
import { generateSecretsBundle } from '../../src/config/secrets-bundle-generate.js';
import { openToken, readPin, signingCaOf, tokenCaMaker } from '../../src/config/token-cas.js';
import { ConfigError } from '../../src/config/config-error.js';
import { CKM_EDDSA, missingMechanism } from '../../src/pki/pkcs11/index.js';
import type { Pkcs11Token } from '../../src/pki/pkcs11/index.js';
import { thrown } from '../support/caught.js';
import { createSoftToken, listTokenObjects, pkcs11ToolMissing, softhsmMissing } from '../support/softhsm.js';
import type { SoftToken } from '../support/softhsm.js';

describe('config/token-cas (SoftHSM2)', function () {
  this.timeout(30_000);
  let soft: SoftToken;
  let token: Pkcs11Token | undefined;
  before(function () {
    if (softhsmMissing() ?? pkcs11ToolMissing()) this.skip();
  });
  beforeEach(() => (soft = createSoftToken('cfg')));
  afterEach(() => {
    token?.close();
    token = undefined;
    soft.remove();
  });
  const open = () => (token = openToken({ module: soft.module, token: soft.label, pinFile: soft.pinFile }));

  it('a bundle with token CAs reads back, validates and prints the same text', async () => {
    const maker = tokenCaMaker(open());
    const bundle = await generateSecretsBundle({ newCA: maker.newCA });
    const text = formatSecretsBundleYaml(bundle);
    const again = validateSecretsBundle(parseSecretsBundle(text));
    expect(again.certs).to.deep.equal(bundle.certs);
    expect(formatSecretsBundleYaml(again)).to.equal(text);
  });

  it('undo removes every key the maker made, so a failed generation leaves the token as it was', async () => {
    const maker = tokenCaMaker(open());
    await maker.newCA('os', 'ecdsa', new Date());
    await maker.newCA('etcd', 'ecdsa', new Date());
    expect(listTokenObjects(soft).match(/Private Key Object/g)).to.have.length(2);
    maker.undo();
    expect(listTokenObjects(soft)).to.not.include('Key Object');
  });

  it('a URI key without a token is refused, naming the field and the flags to give', async () => {
    const maker = tokenCaMaker(open());
    const os = await maker.newCA('os', 'ecdsa', new Date());
    const err = thrown(() => signingCaOf(os, undefined, 'machine.ca'));
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.include('machine.ca.key: the CA key is in a PKCS#11 token (pkcs11:token=cfg;object=trustplane%20os%20CA;id=%').and.include('give --pkcs11-module, --pkcs11-token and --pkcs11-pin-file');
  });

  it('reads the PIN without its newline; an empty or missing PIN file is named', () => {
    expect(readPin({ module: '', token: '', pinFile: soft.pinFile })).to.equal('1234');
    writeFileSync(soft.pinFile, '\n');
    expect(thrown(() => readPin({ module: '', token: '', pinFile: soft.pinFile })).message).to.equal(`${soft.pinFile}: the PKCS#11 PIN file is empty; write the token's user PIN there`);
    expect(thrown(() => readPin({ module: '', token: '', pinFile: '/nope/pin' })).message).to.equal("/nope/pin: cannot read the PKCS#11 PIN file (ENOENT); write the token's user PIN there, mode 0600");
  });

  it('names CKM_EDDSA when a token cannot sign Ed25519', () => {
    expect(missingMechanism('ed25519', new Set([0x1040, 0x1041]))).to.equal('CKM_EDDSA (0x1057)');
    expect(missingMechanism('ed25519', new Set([0x1055, CKM_EDDSA]))).to.equal(undefined);
    expect(missingMechanism('ecdsa', new Set([0x1040]))).to.equal('CKM_ECDSA (0x1041)');
  });
});
