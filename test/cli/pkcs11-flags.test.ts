import { expect } from 'chai';
import { pkcs11Settings } from '../../src/cli/pkcs11-flags.js';
import { thrown } from '../support/caught.js';

describe('cli/pkcs11-flags', () => {
  it('takes each setting from its flag, else its variable; none at all means no token', () => {
    expect(pkcs11Settings({}, {})).to.equal(undefined);
    expect(pkcs11Settings({ pkcs11Module: '/lib.so', pkcs11Token: 't', pkcs11PinFile: 'pin' }, {})).to.deep.equal({ module: '/lib.so', token: 't', pinFile: 'pin' });
    const env = { TRUSTPLANE_PKCS11_MODULE: '/env.so', TRUSTPLANE_PKCS11_TOKEN: 'envt', TRUSTPLANE_PKCS11_PIN_FILE: 'envpin' };
    expect(pkcs11Settings({}, env)).to.deep.equal({ module: '/env.so', token: 'envt', pinFile: 'envpin' });
    expect(pkcs11Settings({ pkcs11Token: 'flag' }, env)).to.deep.equal({ module: '/env.so', token: 'flag', pinFile: 'envpin' });
  });

  it('names every setting missing when only some are given', () => {
    expect(thrown(() => pkcs11Settings({ pkcs11Token: 't' }, {})).message).to.equal(
      'PKCS#11: --pkcs11-module (or TRUSTPLANE_PKCS11_MODULE) and --pkcs11-pin-file (or TRUSTPLANE_PKCS11_PIN_FILE) missing; a token needs all three of --pkcs11-module, --pkcs11-token and --pkcs11-pin-file',
    );
    expect(thrown(() => pkcs11Settings({}, { TRUSTPLANE_PKCS11_PIN_FILE: 'p', TRUSTPLANE_PKCS11_MODULE: '/m.so' })).message).to.match(/^PKCS#11: --pkcs11-token \(or TRUSTPLANE_PKCS11_TOKEN\) missing;/);
  });
});
