// Label selectors as COSI and Kubernetes read them: every term must hold for a resource to match.
import type { LabelTerm } from './state.js';

export function labelTermMatches(labels: Record<string, string>, term: LabelTerm): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, term.key);
  switch (term.op) {
    case 'equal':
      return has && labels[term.key] === term.value;
    case 'notEqual':
      // Kubernetes' `!=` also matches resources without the label.
      return !has || labels[term.key] !== term.value;
    case 'exists':
      return has;
    case 'notExists':
      return !has;
    case 'in':
      return has && term.values.includes(labels[term.key]);
  }
}

export function labelsMatch(labels: Record<string, string>, terms: readonly LabelTerm[] | undefined): boolean {
  if (!terms) return true;
  for (const term of terms) if (!labelTermMatches(labels, term)) return false;
  return true;
}
