const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

// formatBytes uses binary multiples and says so (1 KiB = 1024 B), as the
// server's settings do (MAX_FILE_SIZE_MB and the quotas are MiB).
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[unit]}`;
}

// formatOver says how far size is past limit: "150 MiB, 50.0 MiB over the
// 100 MiB limit", and in bytes when the rounded figures would read the same
// ("104,857,601 bytes, 1 B over the 100 MiB limit").
export function formatOver(size: number, limit: number): string {
  const shown = formatBytes(size) === formatBytes(limit) ? `${size.toLocaleString('en-US')} bytes` : formatBytes(size);
  return `${shown}, ${formatBytes(size - limit)} over the ${formatBytes(limit)} limit`;
}

// formatDate shows an RFC 3339 time in the user's locale and time zone.
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
