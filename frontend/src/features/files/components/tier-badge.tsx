import { formatDate } from '@/lib/format';
import type { FileObject } from '@/features/files/types';

const tiers = {
  minio: { label: 'MinIO', title: 'Hot tier (MinIO)', className: 'bg-amber-100 text-amber-900 ring-amber-300' },
  s3: { label: 'S3', title: 'Cold tier (AWS S3)', className: 'bg-sky-100 text-sky-900 ring-sky-300' },
} as const;

// The detail of a file uploaded in parts, kept out of the list's text: its
// SHA-256 is not known until the sync reads it.
export const PENDING_CHECKSUM = 'SHA-256 computed on the move to cold storage';

export function TierBadge({ file }: { file: Pick<FileObject, 'storage_location' | 'synced_at' | 'checksum_sha256'> }) {
  const tier = tiers[file.storage_location] ?? tiers.minio;
  return (
    <span className="inline-flex flex-col items-start gap-0.5">
      <span
        title={tier.title}
        className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${tier.className}`}
      >
        {tier.label}
      </span>
      {file.storage_location === 's3' && file.synced_at && (
        <span className="text-xs text-slate-500">synced {formatDate(file.synced_at)}</span>
      )}
      {file.checksum_sha256 === null && (
        <span role="img" aria-label={PENDING_CHECKSUM} title={PENDING_CHECKSUM} className="cursor-help text-xs text-slate-400">
          ⓘ
        </span>
      )}
    </span>
  );
}
