// An open, logged-in PKCS#11 token. The library is loaded and C_Initialize'd once per process and path (a second
// C_Initialize fails with CKR_CRYPTOKI_ALREADY_INITIALIZED), shared by every token opened through it, and finalised
// when the last one closes. Signing uses a small pool of sessions: a PKCS#11 session runs one operation at a time,
// and pkcs11js runs C_Sign on libuv's thread pool (C_SignAsync), so several CSRs can be signed at once while the event
// loop stays free.
import pkcs11js from 'pkcs11js';
import type { Handle, PKCS11, Template } from 'pkcs11js';
import { TokenError, ckrOf, MODULE_FIX, PIN_FIX, TOKEN_FIX } from './token-error.js';

export interface TokenOptions {
  /** Path of the PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  module: string;
  /** The token's label (CKA_LABEL of the token, as `softhsm2-util --init-token --label` set it). */
  token: string;
  /** The user PIN. */
  pin: string;
}

interface LoadedModule {
  lib: PKCS11;
  refs: number;
}

const loaded = new Map<string, LoadedModule>();
/** libuv runs four threads by default; more sessions than that would only queue there. */
const MAX_SESSIONS = 4;

function acquireModule(path: string): PKCS11 {
  const known = loaded.get(path);
  if (known) {
    known.refs++;
    return known.lib;
  }
  const lib = new pkcs11js.PKCS11();
  try {
    lib.load(path);
  } catch (err) {
    throw new TokenError('module', path, '?', `the library cannot be loaded (${ckrOf(err)})`, MODULE_FIX);
  }
  try {
    lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (err) {
    if (ckrOf(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      lib.close();
      throw new TokenError('module', path, '?', `C_Initialize failed (${ckrOf(err)})`, MODULE_FIX);
    }
  }
  loaded.set(path, { lib, refs: 1 });
  return lib;
}

function releaseModule(path: string): void {
  const known = loaded.get(path);
  if (!known || --known.refs > 0) return;
  loaded.delete(path);
  try {
    known.lib.C_Finalize();
  } finally {
    known.lib.close();
  }
}

export class Pkcs11Token {
  private readonly idle: Handle[] = [];
  private readonly waiting: ((session: Handle) => void)[] = [];
  private sessions = 0;
  private closed = false;
  private mechanismSet: Set<number> | undefined;

  private constructor(
    readonly module: string,
    readonly label: string,
    readonly lib: PKCS11,
    readonly slot: Handle,
    /** Kept open for the token's life: a token logs out when its application's last session closes. */
    private readonly loginSession: Handle,
  ) {}

  /** Loads the module, finds the token by label and logs in; every failure names the module, the token and the fix. */
  static open(options: TokenOptions): Pkcs11Token {
    const lib = acquireModule(options.module);
    try {
      const slot = findSlot(lib, options);
      const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        login(lib, session, options);
      } catch (err) {
        lib.C_CloseSession(session);
        throw err;
      }
      return new Pkcs11Token(options.module, options.token, lib, slot, session);
    } catch (err) {
      releaseModule(options.module);
      throw err;
    }
  }

  error(reason: TokenError['reason'], problem: string, fix: string): TokenError {
    return new TokenError(reason, this.module, this.label, problem, fix);
  }

  mechanisms(): Set<number> {
    return (this.mechanismSet ??= new Set(this.lib.C_GetMechanismList(this.slot)));
  }

  /** The login session, for short synchronous calls (finding objects, reading attributes, generating keys). */
  get session(): Handle {
    if (this.closed) throw this.error('closed', 'the token was closed', 'open it again');
    return this.loginSession;
  }

  /** Runs `use` on a session of its own, waiting for one when MAX_SESSIONS are busy. */
  async withSession<T>(use: (session: Handle) => Promise<T>): Promise<T> {
    const session = await this.takeSession();
    try {
      return await use(session);
    } finally {
      this.giveBack(session);
    }
  }

  findObjects(template: Template): Handle[] {
    const session = this.session;
    this.lib.C_FindObjectsInit(session, template);
    try {
      return this.lib.C_FindObjects(session, 16);
    } finally {
      this.lib.C_FindObjectsFinal(session);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const session of [...this.idle, this.loginSession]) {
      try {
        this.lib.C_CloseSession(session);
      } catch {
        // the token may be gone already; closing is best effort
      }
    }
    this.idle.length = 0;
    releaseModule(this.module);
  }

  private takeSession(): Promise<Handle> {
    if (this.closed) return Promise.reject(this.error('closed', 'the token was closed', 'open it again'));
    const session = this.idle.pop();
    if (session) return Promise.resolve(session);
    if (this.sessions < MAX_SESSIONS) {
      this.sessions++;
      try {
        return Promise.resolve(this.lib.C_OpenSession(this.slot, pkcs11js.CKF_SERIAL_SESSION));
      } catch (err) {
        this.sessions--;
        return Promise.reject(this.error('token', `C_OpenSession failed (${ckrOf(err)})`, 'check that the token is still present'));
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private giveBack(session: Handle): void {
    const next = this.waiting.shift();
    if (next) next(session);
    else if (this.closed) this.lib.C_CloseSession(session);
    else this.idle.push(session);
  }
}

function findSlot(lib: PKCS11, options: TokenOptions): Handle {
  const labels: string[] = [];
  for (const slot of lib.C_GetSlotList(true)) {
    const info = lib.C_GetTokenInfo(slot);
    // SoftHSM always offers one more, uninitialised token: it has no label to match and is not worth listing
    if (!(info.flags & pkcs11js.CKF_TOKEN_INITIALIZED)) continue;
    const label = info.label.trimEnd();
    if (label === options.token) return slot;
    labels.push(JSON.stringify(label));
  }
  throw new TokenError('token', options.module, options.token, `no token with this label (present: ${labels.join(', ') || 'none'})`, TOKEN_FIX);
}

function login(lib: PKCS11, session: Handle, options: TokenOptions): void {
  try {
    lib.C_Login(session, pkcs11js.CKU_USER, options.pin);
  } catch (err) {
    const ckr = ckrOf(err);
    if (ckr === 'CKR_USER_ALREADY_LOGGED_IN') return;
    if (ckr === 'CKR_PIN_LOCKED')
      throw new TokenError('pin', options.module, options.token, 'the user PIN is locked (CKR_PIN_LOCKED)', 'reset it with the SO PIN (pkcs11-tool --init-pin --login --login-type so)');
    throw new TokenError('pin', options.module, options.token, `login refused (${ckr})`, PIN_FIX);
  }
}
