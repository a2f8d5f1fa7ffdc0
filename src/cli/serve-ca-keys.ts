// serve's CA keys: in memory (PEM in the machine config), or in the PKCS#11 token its flags name. The token is tried at
// start-up and the outcome logged; a token that cannot be opened does not stop the node: the controllers that sign
// with it fail and retry with backoff (shown in CertificateStatus and SecurityStatus), trustd answers 503 meanwhile.
import type { TokenCaKeys } from '../config/token-ca-keys.js';
import type { CliEnv } from './cli-io.js';
import type { LineLogger } from './log-line.js';
import { pkcs11Settings } from './pkcs11-flags.js';
import type { Pkcs11Flags } from './pkcs11-flags.js';

export async function openCaKeys(flags: Pkcs11Flags, log: LineLogger, env: CliEnv): Promise<TokenCaKeys | undefined> {
  const settings = pkcs11Settings(flags, env);
  if (!settings) return undefined;
  const [{ TokenCaKeys }, { memoryCaKeys }] = await Promise.all([import('../config/token-ca-keys.js'), import('../controllers/certificate-cache.js')]);
  const keys = new TokenCaKeys(settings, memoryCaKeys);
  try {
    keys.check();
    log('info', 'PKCS#11 token opened', { module: settings.module, token: settings.token });
  } catch (err) {
    log('warn', 'PKCS#11 token unavailable: the CAs whose keys it holds cannot sign; serve keeps running and retries', { error: err instanceof Error ? err.message : String(err) });
  }
  return keys;
}
