// A last line of defence: a record that would carry a private key (or any PEM block: certificates are named by serial
// and fingerprint, not copied) is refused, so a careless caller cannot leak a secret into a trail that is not sealed.
import type { AuditDetails } from '../../resources/audit-records.js';

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;
const MAX_VALUE = 2048;

export function refuseSecrets(details: AuditDetails): void {
  for (const [field, value] of Object.entries(details)) {
    for (const text of Array.isArray(value) ? value : [value]) {
      if (typeof text !== 'string') continue;
      if (PEM.test(text)) throw new Error(`audit details.${field}: holds a PEM block; record its serial or fingerprint instead`);
      if (text.length > MAX_VALUE) throw new Error(`audit details.${field}: ${text.length} characters, more than ${MAX_VALUE}: record a digest instead`);
    }
  }
}
