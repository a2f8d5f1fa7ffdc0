// A patch that cannot be applied. The field part names the patch and the place in it (`p.yaml line 3: /machine/x`,
// `p.yaml: op 2 (replace /machine/foo)`), so the message says which patch, where, and what was expected.
import { ConfigError } from '../config-error.js';

export class PatchError extends ConfigError {
  constructor(where: string, problem: string) {
    super(where, problem);
    this.name = 'PatchError';
  }
}
