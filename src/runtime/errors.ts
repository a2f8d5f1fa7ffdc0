// Typed errors of the state and runtime layers. Each message names the thing, the problem and, where one exists, the fix.
export type StateErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'OwnerConflict'
  | 'PhaseConflict'
  | 'Validation'
  | 'InvalidBookmark'
  | 'UnsupportedType'
  | 'Unavailable'
  | 'Encryption'
  | 'Integrity';

export class StateError extends Error {
  constructor(
    readonly code: StateErrorCode,
    message: string,
  ) {
    super(message);
    this.name = `${code}Error`;
  }
}

export class NotFoundError extends StateError {
  constructor(readonly what: string) {
    super('NotFound', `resource ${what} doesn't exist`);
  }
}

export class AlreadyExistsError extends StateError {
  constructor(readonly what: string) {
    super('AlreadyExists', `resource ${what} already exists`);
  }
}

export class ConflictError extends StateError {
  constructor(
    readonly what: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super('Conflict', `resource ${what} update conflict: expected version "${expected}", actual version "${actual}"`);
  }
}

export class OwnerConflictError extends StateError {
  constructor(
    readonly what: string,
    readonly owner: string,
    readonly writer: string,
  ) {
    super('OwnerConflict', `resource ${what} is owned by "${owner || 'user'}", not by "${writer || 'user'}"`);
  }
}

export class PhaseConflictError extends StateError {
  constructor(
    readonly what: string,
    detail: string,
  ) {
    super('PhaseConflict', `resource ${what} ${detail}`);
  }
}

export class ValidationError extends StateError {
  /** `field` is a path such as `machine.certSANs[2]`; the message reads `<field>: <problem>`. */
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super('Validation', field ? `${field}: ${problem}` : problem);
  }
}

export class InvalidBookmarkError extends StateError {
  constructor(
    readonly bookmark: number,
    readonly oldest: number,
    /** Overrides the default message, e.g. for a bookmark ahead of the store (it belongs to another store). */
    message?: string,
  ) {
    super(
      'InvalidBookmark',
      message ??
        `bookmark ${bookmark} is older than the retained history (oldest ${oldest}): the watch cannot resume, list again and watch from the new revision`,
    );
  }
}

export class UnsupportedTypeError extends StateError {
  constructor(readonly typeName: string) {
    super('UnsupportedType', `resource type "${typeName}" is not supported`);
  }
}

export class UnavailableError extends StateError {
  constructor(detail: string) {
    super('Unavailable', `store unavailable: ${detail}`);
  }
}

export class EncryptionError extends StateError {
  constructor(detail: string) {
    super('Encryption', detail);
  }
}

/**
 * The store holds something its key did not write: a sensitive spec in the clear, or sealed for another resource.
 * Such a value is never used; the way out is a store (or snapshot) written only by trustplane.
 */
export class IntegrityError extends StateError {
  constructor(
    readonly store: string,
    readonly what: string,
    problem: string,
  ) {
    super('Integrity', `${store}: ${what} ${problem}: the store was edited without its key; restore from a snapshot you trust`);
  }
}

export function isStateError(err: unknown, code?: StateErrorCode): err is StateError {
  return err instanceof StateError && (code === undefined || err.code === code);
}
