// Turns specs into what is stored and back. Sensitive specs are sealed with the resource pointer as associated data,
// everywhere they are written (resources and the event log alike), so no plaintext of them reaches the file.
import { EncryptionError } from '../errors.js';
import type { Metadata, Resource } from '../resource.js';
import type { SecretBox } from '../encryption/secret-box.js';
import { STATE_KEY_ENV } from '../encryption/state-key.js';
import type { StoredSpec } from './rows.js';

export class SpecCodec {
  constructor(
    private readonly box: SecretBox | undefined,
    private readonly keyOrigin: string,
    private readonly storePath: string,
  ) {}

  get encrypting(): boolean {
    return this.box !== undefined;
  }

  encode(specJson: string, sensitive: boolean, aad: string): StoredSpec {
    return sensitive && this.box ? this.box.seal(specJson, aad) : specJson;
  }

  decode(stored: StoredSpec, aad: string): unknown {
    if (typeof stored === 'string') return JSON.parse(stored);
    if (!this.box) {
      throw new EncryptionError(
        `resource ${aad} in "${this.storePath}" is encrypted but the store was opened without a key: ` +
          `open it with its key file or ${STATE_KEY_ENV}`,
      );
    }
    const plain = this.box.open(stored, aad);
    if (plain === undefined) {
      throw new EncryptionError(
        `resource ${aad} in "${this.storePath}" cannot be decrypted with ${this.keyOrigin}: ` +
          `the key is not the one it was written with, or the row was tampered with`,
      );
    }
    return JSON.parse(plain);
  }

  resource<Spec>(meta: string, stored: StoredSpec, aad: string): Resource<Spec> {
    return { metadata: JSON.parse(meta) as Metadata, spec: this.decode(stored, aad) as Spec };
  }
}
