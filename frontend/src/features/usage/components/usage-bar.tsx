import { useUsage } from '@/features/usage/api/get-usage';
import { formatBytes } from '@/lib/format';

const segments = [
  { key: 'hot_bytes', label: 'MinIO', color: 'bg-amber-500' },
  { key: 'cold_bytes', label: 'S3', color: 'bg-sky-600' },
  { key: 'trash_bytes', label: 'Trash', color: 'bg-slate-400' },
  { key: 'upload_bytes', label: 'Uploading', color: 'bg-indigo-300' },
] as const;

// UsageBar shows what the account stores per tier, the trash and uploads
// under way, against its quota. Without a quota there is no bar (a bar
// with no maximum reads as full): the figures alone.
export function UsageBar() {
  const usage = useUsage();
  if (!usage.data) return null;
  const u = usage.data;
  const quota = u.quota_bytes;
  const pct = (n: number) => (quota !== null && quota > 0 ? Math.min(100, (n / quota) * 100) : 0);
  const summary = quota === null ? `${formatBytes(u.used_bytes)} used · no quota` : `${formatBytes(u.used_bytes)} of ${formatBytes(quota)} used`;
  return (
    <section aria-labelledby="usage-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="usage-heading" className="text-sm font-semibold">
          Storage
        </h2>
        <p className="text-sm text-slate-600">{summary}</p>
      </div>
      {quota !== null && (
        <div
          role="meter"
          aria-label="Storage used"
          aria-valuemin={0}
          aria-valuemax={quota}
          aria-valuenow={Math.min(u.used_bytes, quota)}
          aria-valuetext={summary}
          className="mt-2 flex h-2 w-full overflow-hidden rounded-full bg-slate-200"
        >
          {segments.map((s) => (u[s.key] > 0 ? <div key={s.key} className={`h-full ${s.color}`} style={{ width: `${pct(u[s.key])}%` }} /> : null))}
        </div>
      )}
      <ul className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-600" aria-label="Storage by place">
        {segments.map((s) => (
          <li key={s.key} className="flex items-center gap-1">
            <span aria-hidden="true" className={`inline-block h-2 w-2 rounded-full ${s.color}`} />
            {s.label} {formatBytes(u[s.key])}
          </li>
        ))}
      </ul>
    </section>
  );
}
