// The names and numbers trustctl's commands share: environment variables, default locations, exit codes. One place, so
// a message, a help text and the code that reads the value cannot drift apart.

/** The local node's state directory when --state is not given. */
export const STATE_DIR_ENV = 'TRUSTPLANE_STATE_DIR';
/** Under HOME when neither --state nor $TRUSTPLANE_STATE_DIR is given. */
export const DEFAULT_STATE_DIR = ['.trustplane', 'state'] as const;
/** Mirrors src/server/node.ts's STATE_FILE; kept here so a missing store is reported without loading the node. */
export const STORE_FILE = 'state.db';

/** Read in this order when no --age-identity is given; the first one set is used. */
export const AGE_IDENTITY_ENV = ['TRUSTPLANE_AGE_IDENTITY', 'SOPS_AGE_KEY_FILE'] as const;

/** What each PKCS#11 flag falls back to. */
export const PKCS11_ENV = {
  module: 'TRUSTPLANE_PKCS11_MODULE',
  token: 'TRUSTPLANE_PKCS11_TOKEN',
  pinFile: 'TRUSTPLANE_PKCS11_PIN_FILE',
} as const;

/** The exit code of `get securitystatus` and `check` when a finding is a warning or worse (1 stays "the command failed"). */
export const UNHEALTHY_EXIT_CODE = 2;
