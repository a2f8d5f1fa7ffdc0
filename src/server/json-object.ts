// The JSON object at the top of an HTTP request body (apid's calls, trustd's CSR request). Anything else (null, a
// list, a number) and any `__proto__` key is refused here with a reason, so that a handler reading `body.x` never meets
// a null or an object whose own `__proto__` a later spread or assignment could turn into a prototype.

export class JsonBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonBodyError';
  }
}

/** Throws JsonBodyError whose message completes "request body ...", e.g. "is not a JSON object: got null". */
export function parseJsonObject(text: string): Record<string, unknown> {
  if (!text.trim()) throw new JsonBodyError('is empty: expected a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v: unknown) => {
      if (key === '__proto__') throw new JsonBodyError('has a "__proto__" key, which no call accepts: rename or remove it');
      return v;
    });
  } catch (err) {
    if (err instanceof JsonBodyError) throw err;
    throw new JsonBodyError(`is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JsonBodyError(`is not a JSON object: got ${jsonKind(value)}`);
  return value as Record<string, unknown>;
}

/** How a JSON value is named in an error: null, a list, a string, an object... */
export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
