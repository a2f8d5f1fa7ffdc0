// Cross-signing: the new CA's name and key, vouched for by the old CA. A server whose leaf comes from the new CA and
// that sends this certificate along is verified by clients that trust only the old CA (leaf -> new CA, signed by old
// -> old root), while clients that trust the new CA stop at their own root. This is how a CA rotation keeps existing
// clients (an old talosconfig) working until the old CA is dropped.
import { X509Certificate } from 'node:crypto';
import type { CertificateAuthority } from './ca.js';
import { buildCertificate, randomSerial } from './certificate-builder.js';
import { structureOf } from './certificate-structure.js';
import { PkiError } from './errors.js';
import { basicConstraintsExtension, extKeyUsageExtension, keyUsageExtension, subjectKeyIdExtension } from './extensions.js';
import { authorityKeyIdOf } from './issue.js';
import { encodePem } from './pem.js';
import { keyIdentifierOf } from './signature.js';

/** `ca` (a CA certificate) re-issued by `signer`: same subject, key and key identifier; valid while both are. */
export function crossSignCA(ca: X509Certificate, signer: CertificateAuthority): { certPem: string; cert: X509Certificate } {
  const subject = structureOf(ca);
  if (subject.extensions.isCA !== true) throw new PkiError('NotCA', `cross-signing: "${subject.subject.text}" is not a CA certificate`);
  const issuer = structureOf(signer.cert);
  const notBefore = subject.notBefore > issuer.notBefore ? subject.notBefore : issuer.notBefore;
  const notAfter = subject.notAfter < issuer.notAfter ? subject.notAfter : issuer.notAfter;
  if (notAfter <= notBefore) throw new PkiError('InvalidOption', `cross-signing: "${subject.subject.text}" and "${issuer.subject.text}" are never valid at the same time`);
  const der = buildCertificate(
    {
      serial: randomSerial(),
      issuerDer: issuer.subjectDer,
      subjectDer: subject.subjectDer,
      notBefore,
      notAfter,
      spki: subject.spki,
      extensions: [
        keyUsageExtension(['digitalSignature', 'keyCertSign', 'cRLSign']),
        extKeyUsageExtension(['serverAuth', 'clientAuth']),
        basicConstraintsExtension(true),
        // The new CA's own identifier: its leaves' AuthorityKeyIdentifier must find this certificate too.
        subjectKeyIdExtension(subject.extensions.subjectKeyId ?? keyIdentifierOf(subject.spki)),
        authorityKeyIdOf(signer),
      ],
    },
    signer.key.privateKey,
  );
  return { certPem: encodePem('CERTIFICATE', der), cert: new X509Certificate(der) };
}
