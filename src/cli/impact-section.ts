// The "Certificate impact:" block of a dry run, printed the same way whether the node computed it (over the API) or
// this process did (a local store).
export function impactSection(lines: readonly string[], note?: string): string[] {
  const body = lines.length ? lines.map((l) => `  ${l}`) : ['  none: no certificate would be re-issued'];
  return ['Certificate impact:', ...body, ...(note ? [`  (${note})`] : [])];
}
