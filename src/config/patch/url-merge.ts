// Merges two URLs part by part as Go's struct merge does for Talos's Endpoint (a url.URL): each non-empty part of the
// patch's URL replaces the config's, empty parts keep the config's.
const URL_PARTS = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/;

export function mergeUrl(left: string, right: string): string {
  const a = URL_PARTS.exec(left);
  const b = URL_PARTS.exec(right);
  if (!a || !b) return right;
  const part = (i: number) => b[i] || a[i] || '';
  return `${part(1)}://${part(2)}${part(3)}${part(4)}${part(5)}`;
}
