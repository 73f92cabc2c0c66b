/** CRI list filters: id (exact or unique prefix), state, label selector (all must match). */
export function labelsMatch(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

export function idMatches(id: string, filter: string | undefined): boolean {
  return !filter || id === filter || id.startsWith(filter);
}
