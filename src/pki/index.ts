// The public face of src/pki: pure functions over node:crypto keys and DER we build ourselves.
export { PkiError, CsrError } from './errors.js';
export type { PkiErrorCode, CsrErrorReason } from './errors.js';
export { encodePem, decodePem, decodePemBlocks, splitPemBundle, parseCertificatePem, parseCertificateDer, parseCertificateBundle } from './pem.js';
export type { PemBlock } from './pem.js';
export {
  KEY_ALGORITHMS,
  generateKeyPair,
  generateKeyPairSync,
  parsePrivateKeyPem,
  encodePrivateKeyPem,
  encodePrivateKeyPkcs8Pem,
  encodePublicKeyPem,
  keyPairOf,
  algorithmOf,
  samePublicKey,
} from './keys.js';
export type { KeyAlgorithm, KeyPair, KeyOptions, RsaBits } from './keys.js';
export { createCA, createCAWithSigner, caFromPem, caFromParts, caFromSigner, CA_SUBJECTS, CA_VALIDITY_HOURS } from './ca.js';
export { memorySigner } from './ca-signer.js';
export type { CASigner, KeyLocation, SignatureEncoding } from './ca-signer.js';
export { MIN_LIFETIME_HOURS, MAX_LIFETIME_HOURS, LIFETIME_RANGE, lifetimeProblem, checkLifetime } from './lifetime.js';
export { caShapeProblems, caValidityProblem, weakKeyProblem, MIN_RSA_BITS } from './ca-check.js';
export { crossSignCA, crossSignCAAsync } from './cross-sign.js';
export type { CertificateAuthority, SigningCA, CaProfile, CreateCaOptions } from './ca.js';
export { LEAF_PROFILES, LEAF_PROFILE_NAMES } from './profiles.js';
export type { LeafProfile, LeafProfileSpec, CaRole, KeyUsageName, ExtKeyUsageName } from './profiles.js';
export { issueCertificate, issueCertificateAsync, issueCertificateAndKey, DEFAULT_BACKDATE_MINUTES } from './issue.js';
export type { IssueOptions, IssueWithKeyOptions, IssuedCertificate, IssuedCertificateAndKey } from './issue.js';
export { createCsr, parseCsr } from './csr.js';
export type { CsrSubject, CsrSans, ParsedCsr } from './csr.js';
export { inspectCertificate } from './inspect.js';
export type { CertificateInfo, NameInfo } from './inspect.js';
export { verifyChain, isIssuedBy } from './verify-chain.js';
export type { ChainFailure, ChainResult, VerifyChainOptions } from './verify-chain.js';
export { signJwt, signJwtWith, verifyJwt, jwtAlgorithmFor } from './jwt.js';
export type { JwtAlgorithm, JwtClaims, JwtHeader, VerifyJwtOptions } from './jwt.js';
export { buildCrl, buildCrlAsync, crlPem, REVOCATION_REASON_CODES, REVOCATION_REASON_NAMES } from './crl.js';
export type { CrlEntry, CrlOptions, RevocationReasonCode } from './crl.js';
export { spkiOf } from './signature.js';
export { ipFamily, serverNameFor } from './ip.js';
