// Errors of the config layer. Messages name the field, the problem and, where one exists, the fix.

/** A single problem in a configuration file or flag; `field` is a path such as `machine.certSANs[2]`. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(field ? `${field}: ${problem}` : problem);
    this.name = 'ConfigError';
  }
}

/**
 * Several problems found at once (validation collects them all), printed like go-multierror so that messages
 * match upstream Talos: `2 errors occurred:\n\t* a\n\t* b`.
 */
export class MultiError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(formatErrors(errors));
    this.name = 'MultiError';
  }
}

function formatErrors(errors: readonly string[]): string {
  const head = errors.length === 1 ? '1 error occurred:' : `${errors.length} errors occurred:`;
  return [head, ...errors.map((e) => `\t* ${e}`)].join('\n');
}
