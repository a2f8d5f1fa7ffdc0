// cert-manager's idea: a decision is an ordered list of small pure checks; the first that fires gives the reason and
// the message, so "why will this be re-issued" always has one explainable answer.
export interface Verdict<Reason extends string> {
  reason: Reason;
  message: string;
}

export type Check<Input, Reason extends string> = (input: Input) => Verdict<Reason> | undefined;

export function check<Input, Reason extends string>(
  reason: Reason,
  fires: (input: Input) => string | false | undefined,
): Check<Input, Reason> {
  return (input) => {
    const message = fires(input);
    return message ? { reason, message } : undefined;
  };
}

export function chain<Input, Reason extends string>(...checks: Check<Input, Reason>[]): (input: Input) => Verdict<Reason> | undefined {
  return (input) => {
    for (const c of checks) {
      const verdict = c(input);
      if (verdict) return verdict;
    }
    return undefined;
  };
}
