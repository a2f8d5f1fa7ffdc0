// Turns specs into what is stored and back. Sensitive specs are sealed with the resource pointer as associated data,
// everywhere they are written (resources and the event log alike), so no plaintext of them reaches the file. Reading is
// the mirror rule: in a store that seals, a sensitive spec that is not sealed, or sealed for another pointer, was put
// there by someone without the key and is refused (IntegrityError), never used.
import { EncryptionError, IntegrityError, UnsupportedTypeError } from '../errors.js';
import { formatPointer } from '../resource.js';
import type { Metadata, Pointer, Resource, ResourceRegistry } from '../resource.js';
import type { SecretBox } from '../encryption/secret-box.js';
import { STATE_KEY_ENV } from '../encryption/state-key.js';
import type { EventRow, StoredSpec } from './rows.js';
import type { DecodedEvent } from './watch-projection.js';

/** Whether a type's specs are sealed; an unknown type is not (nothing reads it). */
export type SensitiveTypes = (type: string) => boolean;

export class SpecCodec {
  constructor(
    private readonly box: SecretBox | undefined,
    private readonly keyOrigin: string,
    private readonly storePath: string,
    private readonly sensitive: SensitiveTypes,
  ) {}

  get encrypting(): boolean {
    return this.box !== undefined;
  }

  encode(specJson: string, sensitive: boolean, aad: string): StoredSpec {
    return sensitive && this.box ? this.box.seal(specJson, aad) : specJson;
  }

  decode(stored: StoredSpec, pointer: Pointer): unknown {
    const what = formatPointer(pointer);
    if (typeof stored === 'string') {
      if (this.box && this.sensitive(pointer.type)) throw new IntegrityError(this.storePath, what, 'is not sealed');
      return JSON.parse(stored);
    }
    if (!this.box) {
      throw new EncryptionError(
        `resource ${what} in "${this.storePath}" is encrypted but the store was opened without a key: ` +
          `open it with its key file or ${STATE_KEY_ENV}`,
      );
    }
    // The key itself was proven when the store was opened, so a box that does not open was not sealed here, for this.
    const plain = this.box.open(stored, what);
    if (plain === undefined) throw new IntegrityError(this.storePath, what, `is sealed for another resource or altered (key: ${this.keyOrigin})`);
    return JSON.parse(plain);
  }

  /** Throws IntegrityError when a stored spec of a sensitive type was not sealed by this store's key for `pointer`. */
  verify(pointer: Pointer, stored: StoredSpec | null): void {
    if (stored !== null && this.sensitive(pointer.type)) this.decode(stored, pointer);
  }

  /** `verify` for both specs an event row may hold. */
  verifyEvent(row: EventRow): void {
    const pointer = { namespace: row.namespace, type: row.type, id: row.id };
    this.verify(pointer, row.spec);
    this.verify(pointer, row.old_spec);
  }

  resource<Spec>(meta: string, stored: StoredSpec, pointer: Pointer): Resource<Spec> {
    return { metadata: JSON.parse(meta) as Metadata, spec: this.decode(stored, pointer) as Spec };
  }

  /**
   * An event as watchers get it. The history keeps no superseded secret: a sensitive type's event carries no `old`
   * (only its metadata, for label selectors), and its `destroyed` event no spec, whatever an older file still holds.
   */
  event(row: EventRow): DecodedEvent {
    const pointer = { namespace: row.namespace, type: row.type, id: row.id };
    const secret = this.sensitive(row.type);
    const metadata = JSON.parse(row.meta) as Metadata;
    const spec = secret && row.kind === 'destroyed' ? null : this.decode(row.spec, pointer);
    const oldMetadata = row.old_meta !== null ? (JSON.parse(row.old_meta) as Metadata) : undefined;
    const old = !secret && oldMetadata && row.old_spec !== null ? { metadata: oldMetadata, spec: this.decode(row.old_spec, pointer) } : undefined;
    return { row, resource: { metadata, spec }, old, oldMetadata };
  }
}

/** Sensitivity by type name, from the registry the store was opened with (cached: it is asked on every read). */
export function sensitiveTypes(registry: ResourceRegistry): SensitiveTypes {
  const known = new Map<string, boolean>();
  return (type) => {
    let sensitive = known.get(type);
    if (sensitive === undefined) {
      try {
        sensitive = registry.resolve(type).sensitive;
      } catch (err) {
        if (!(err instanceof UnsupportedTypeError)) throw err;
        sensitive = false;
      }
      known.set(type, sensitive);
    }
    return sensitive;
  };
}
