// The public face of src/pki/pkcs11: CA keys held in a PKCS#11 token, named by RFC 7512 URIs.
export { parsePkcs11Uri, formatPkcs11Uri, isPkcs11Uri } from './pkcs11-uri.js';
export type { Pkcs11Uri, Pkcs11ObjectType } from './pkcs11-uri.js';
export { Pkcs11Token } from './pkcs11-token.js';
export type { TokenOptions } from './pkcs11-token.js';
export { TokenError } from './token-error.js';
export type { TokenErrorReason } from './token-error.js';
export { generateTokenKey, importTokenKey, findPrivateKey, destroyTokenKey, missingMechanism, CKM_EDDSA } from './token-keys.js';
export type { GeneratedTokenKey, GenerateTokenKeyOptions } from './token-keys.js';
export { tokenSigner } from './token-signer.js';
