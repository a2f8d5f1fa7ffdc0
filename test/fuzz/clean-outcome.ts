// The fuzz invariant: a parser returns a result or throws one of the project's typed errors with a message of its
// own, never a TypeError/RangeError/SyntaxError from deep inside, and never a message that is a JavaScript internal.
import { expect } from 'chai';

type ErrorClass = abstract new (...args: never[]) => Error;

// Wording of errors that the engine raises, which mean that a parser walked off the end of its data.
const ENGINE_WORDING = /Cannot read propert|is not a function|is not iterable|undefined is not|of undefined|of null|Maximum call stack|out of range|Invalid array length|multiple of 16-bits/;

/** Throws an assertion error unless `err` is an instance of one of `allowed` with a message of our own. */
export function expectOurError(err: unknown, allowed: readonly ErrorClass[], input: string): void {
  const ok = allowed.some((cls) => err instanceof cls);
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  // the top of the stack says where the error came from, which is what a fix needs
  const where = err instanceof Error ? (err.stack ?? '').split('\n').slice(1, 5).join('\n') : '';
  expect(ok, `${input}: threw ${text}, expected one of ${allowed.map((c) => c.name).join(', ')}\n${where}`).to.equal(true);
  expect(ENGINE_WORDING.test(text), `${input}: the message leaks a JavaScript internal: ${text}`).to.equal(false);
}

/** Runs `parse`; returns its result, or undefined when it threw one of `allowed` (anything else fails the case). */
export function cleanOutcome<T>(parse: () => T, allowed: readonly ErrorClass[], input: string): T | undefined {
  try {
    return parse();
  } catch (err) {
    expectOurError(err, allowed, input);
    return undefined;
  }
}

/** The same for an asynchronous parser. */
export async function cleanOutcomeAsync<T>(parse: () => Promise<T>, allowed: readonly ErrorClass[], input: string): Promise<T | undefined> {
  try {
    return await parse();
  } catch (err) {
    expectOurError(err, allowed, input);
    return undefined;
  }
}

/** A short printable form of a fuzzed input for failure messages. */
export function describeInput(input: string | Uint8Array): string {
  const text = typeof input === 'string' ? JSON.stringify(input) : Buffer.from(input).toString('hex');
  return text.length > 300 ? `${text.slice(0, 300)}... (${text.length} chars)` : text;
}
