// Residual times the way kubeadm prints them: the two largest units (`364d`, `9y`, `23h`, `5m`), `expired` when past.
export function humanDuration(ms: number): string {
  if (ms <= 0) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  const years = Math.floor(days / 365);
  if (years >= 2) return `${years}y`;
  if (days >= 1) return `${days}d`;
  if (hours >= 1) return `${hours}h${minutes % 60 ? `${minutes % 60}m` : ''}`;
  return `${Math.max(minutes, 1)}m`;
}
