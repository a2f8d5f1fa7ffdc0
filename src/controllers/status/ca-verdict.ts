// The state CertificateStatus shows for a CA: a CA that cannot sign (no CA:TRUE, no keyCertSign, a weak key) is
// Invalid whatever its dates say, so `trustctl get certificatestatus` never calls it healthy.
import { caShapeProblems } from '../../pki/index.js';
import { rotateCaCommand } from '../../resources/common.js';
import { certificateState } from './certificate-state.js';
import type { StateVerdict } from './certificate-state.js';
import type { Described } from './describe-certificate.js';
import type { CaSource } from './status-sources.js';

export function caVerdict(ca: CaSource, d: Pick<Described, 'cert' | 'notBefore' | 'notAfter'>, now: Date): StateVerdict {
  const unusable = caShapeProblems(d.cert);
  if (unusable.length > 0) return { state: 'Invalid', message: `this CA ${unusable.join('; ')}; replace it: ${rotateCaCommand(ca.name)}` };
  return certificateState({ notBefore: d.notBefore, notAfter: d.notAfter, chainsToAcceptedCA: ca.accepted.includes(ca.crt), now });
}
