// Which fields a machine config change touched, as paths (`machine.certSANs`, `cluster.ca.key`): a record says where
// the config changed, never what a value was or became, so a changed secret shows as its path alone.
export function changedFieldPaths(before: unknown, after: unknown, path = ''): string[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedFieldPaths(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length && !before.some(isContainer) && !after.some(isContainer)) {
    return before.every((v, i) => v === after[i]) ? [] : [path || '.'];
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((v, i) => changedFieldPaths(v, after[i], `${path}[${i}]`));
  }
  return sameValue(before, after) ? [] : [path || '.'];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isContainer(v: unknown): boolean {
  return v !== null && typeof v === 'object';
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
