import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCaKeys } from '../../src/cli/serve-ca-keys.js';
import { createSoftToken, softhsmMissing } from '../support/softhsm.js';
import type { SoftToken } from '../support/softhsm.js';

describe('serve: the PKCS#11 token at start-up (SoftHSM2)', () => {
  let soft: SoftToken;
  const lines: string[] = [];
  const log = (level: string, message: string, fields?: Record<string, unknown>) => void lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  before(function () {
    if (softhsmMissing()) this.skip();
  });
  beforeEach(() => {
    soft = createSoftToken('serve');
    lines.length = 0;
  });
  afterEach(() => soft?.remove());

  it('without the flags or variables, keeps the CA keys in memory and says nothing', async () => {
    expect(await openCaKeys({}, log, {})).to.equal(undefined);
    expect(lines).to.deep.equal([]);
  });

  it('says the token is open, naming module and token (never the PIN)', async () => {
    const keys = await openCaKeys({ pkcs11Module: soft.module, pkcs11Token: soft.label, pkcs11PinFile: soft.pinFile }, log, {});
    keys?.close();
    expect(lines).to.deep.equal([`info PKCS#11 token opened {"module":"${soft.module}","token":"serve"}`]);
  });

  it('a wrong PIN is a warning naming the module, the token and the fix; serve goes on (the keys object is returned)', async () => {
    const pinFile = join(soft.dir, 'bad');
    writeFileSync(pinFile, '4321\n');
    const keys = await openCaKeys({ pkcs11Module: soft.module, pkcs11Token: soft.label, pkcs11PinFile: pinFile }, log, {});
    expect(keys).to.not.equal(undefined);
    keys?.close();
    expect(lines).to.have.length(1);
    expect(lines[0]).to.include('warn PKCS#11 token unavailable: the CAs whose keys it holds cannot sign; serve keeps running and retries');
    expect(lines[0]).to.include(`PKCS#11 token \\"serve\\" (module ${soft.module}): login refused (CKR_PIN_INCORRECT); put the token's user PIN in the file named by --pkcs11-pin-file`);
    expect(lines[0]).to.not.include('4321');
  });
});
