// GET /crl/<ca>.crl: each CA's CRL in DER, unauthenticated, as a CRL distribution point serves it, from the
// RevocationLists the control plane publishes.
import { decodePem } from '../../pki/index.js';
import { CA_NAMES } from '../../resources/common.js';
import { RevocationLists } from '../../resources/revocation-lists.js';
import type { RevocationListSpec } from '../../resources/revocation-lists.js';
import type { State } from '../../runtime/state.js';
import { TrustdError } from './trustd-error.js';

export const CRL_PREFIX = '/crl/';
export const CRL_CONTENT_TYPE = 'application/pkix-crl';

export const crlPath = (ca: string): string => `${CRL_PREFIX}${ca}.crl`;

/** The DER CRL for a path under /crl/, or a TrustdError (404 naming what exists, 503 before the first CRL). */
export async function crlFor(state: State, path: string): Promise<Buffer> {
  const ca = CA_NAMES.find((name) => path === crlPath(name));
  if (!ca) throw new TrustdError(404, `no CRL at ${JSON.stringify(path)}: trustd serves ${CA_NAMES.map(crlPath).join(', ')}`);
  const list = await state.find<RevocationListSpec>({ namespace: RevocationLists.namespace, type: RevocationLists.type, id: ca });
  if (!list) throw new TrustdError(503, `no CRL of the ${ca} CA yet: this node publishes one once it holds the ${ca} CA key`);
  return decodePem(list.spec.pem, `RevocationLists/${ca}`).der;
}
