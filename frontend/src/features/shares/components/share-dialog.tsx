import { useEffect, useId, useRef, useState, type FormEvent } from 'react';

import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { InputField } from '@/components/ui/input-field';
import { useToast } from '@/components/ui/toast';
import type { FileObject } from '@/features/files/types';
import { SHARES_REFRESH_MS, useCreateShare, useRevokeShare, useShares, type Share } from '@/features/shares/api/shares';
import { toApiError } from '@/lib/api-error';
import { formatDate } from '@/lib/format';

const EXPIRIES = [
  { hours: 1, label: '1 hour' },
  { hours: 24, label: '1 day' },
  { hours: 168, label: '7 days' },
  { hours: 720, label: '30 days' },
];

// refreshMs: how often the open dialog asks for its links again.
type ShareDialogProps = { file: FileObject; onClose: () => void; refreshMs?: number };

// ShareDialog makes a share link of one file (expiry, optional password and
// download limit), shows the new link with Copy, and lists the file's live
// links with Revoke. A modal: focus moves in on open, Tab stays inside,
// Escape closes, focus returns to the Share button.
export function ShareDialog({ file, onClose, refreshMs = SHARES_REFRESH_MS }: ShareDialogProps) {
  const fieldId = useId();
  const firstRef = useRef<HTMLSelectElement>(null);
  const { notify } = useToast();
  // Downloads and expiries change while the dialog is open: it asks again.
  const shares = useShares(file.id, refreshMs);
  const create = useCreateShare(file.id);
  const revoke = useRevokeShare(file.id);
  const [hours, setHours] = useState(168);
  const [password, setPassword] = useState('');
  const [maxDownloads, setMaxDownloads] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<Share | null>(null);
  const [copied, setCopied] = useState(false);

  // Escape closes even when focus fell out of the panel (a revoked link's
  // button is gone).
  useEffect(() => {
    const onDocKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onDocKey);
    return () => document.removeEventListener('keydown', onDocKey);
  }, [onClose]);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const limit = maxDownloads.trim();
    if (limit !== '' && !/^[1-9][0-9]{0,6}$/.test(limit)) {
      setError('The download limit must be a whole number from 1 to 1000000.');
      return;
    }
    if (password !== '' && password.length < 8) {
      setError('The password must be at least 8 characters.');
      return;
    }
    create.mutate(
      { expires_in_hours: hours, ...(password ? { password } : {}), ...(limit ? { max_downloads: Number(limit) } : {}) },
      {
        onSuccess: (s) => {
          setCreated(s);
          setCopied(false);
          setPassword('');
        },
        onError: (err) => setError(toApiError(err).message),
      },
    );
  };

  const onCopy = async () => {
    if (!created?.url) return;
    try {
      await navigator.clipboard.writeText(created.url);
      setCopied(true);
    } catch {
      notify('error', 'Could not copy: select the link and copy it by hand.');
    }
  };

  const onRevoke = (s: Share) =>
    revoke.mutate(s.id, {
      onSuccess: () => {
        if (created?.id === s.id) setCreated(null);
        notify('success', 'Link revoked');
      },
      onError: (err) => notify('error', `Could not revoke the link: ${toApiError(err).message}`),
    });

  return (
    <Dialog title={`Share ${file.original_filename}`} onClose={onClose} initialFocus={firstRef} widthClassName="max-w-lg">
      <form className="mt-4 space-y-3" onSubmit={onSubmit} noValidate>
        <div>
          <label htmlFor={`${fieldId}-expiry`} className="block text-sm font-medium text-slate-700">
            Link expires after
          </label>
          <select
            id={`${fieldId}-expiry`}
            ref={firstRef}
            value={hours}
            onChange={(e) => setHours(Number(e.target.value))}
            className="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500"
          >
            {EXPIRIES.map((x) => (
              <option key={x.hours} value={x.hours}>
                {x.label}
              </option>
            ))}
          </select>
        </div>
        <InputField
          label="Password (optional)"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          hint={
            <span className="text-xs text-slate-500">
              At least 8 characters. Send it to the recipient another way. The link's page then shows the file's name,
              size and type only to whoever gives the password.
            </span>
          }
        />
        <InputField
          label="Download limit (optional)"
          inputMode="numeric"
          value={maxDownloads}
          onChange={(e) => setMaxDownloads(e.target.value)}
        />
        {error && (
          <p role="alert" className="text-sm text-red-700">
            {error}
          </p>
        )}
        <Button type="submit" isLoading={create.isPending}>
          Create link
        </Button>
      </form>

      {created?.url && (
        <div className="mt-4 rounded-md bg-slate-50 p-3">
          <label htmlFor={`${fieldId}-link`} className="block text-sm font-medium text-slate-700">
            New link (shown once)
          </label>
          <div className="mt-1 flex gap-2">
            <input
              id={`${fieldId}-link`}
              readOnly
              value={created.url}
              onFocus={(e) => e.target.select()}
              className="min-w-0 flex-1 rounded-md border border-slate-300 px-2 py-1.5 text-sm"
            />
            <Button variant="secondary" size="sm" onClick={() => void onCopy()}>
              {copied ? 'Copied' : 'Copy link'}
            </Button>
          </div>
        </div>
      )}

      <h3 className="mt-6 text-sm font-semibold">Live links</h3>
      {shares.isPending ? (
        <p className="mt-1 text-sm text-slate-600">Loading…</p>
      ) : shares.isError ? (
        <p className="mt-1 text-sm text-red-700">{toApiError(shares.error).message}</p>
      ) : shares.data.length === 0 ? (
        <p className="mt-1 text-sm text-slate-600">No live links.</p>
      ) : (
        <ul className="mt-1 divide-y divide-slate-100" aria-label="Live links">
          {shares.data.map((s) => (
            <li key={s.id} data-testid="share-row" className="flex items-center justify-between gap-2 py-2 text-sm">
              <span className="text-slate-700">
                Created <time dateTime={s.created_at}>{formatDate(s.created_at)}</time> · until {formatDate(s.expires_at)} · {s.downloads}
                {s.max_downloads !== null ? ` of ${s.max_downloads}` : ''} downloads
                {s.has_password ? ' · password' : ''}
              </span>
              <Button
                variant="ghost"
                size="sm"
                className="text-red-700"
                onClick={() => onRevoke(s)}
                isLoading={revoke.isPending && revoke.variables === s.id}
                aria-label={`Revoke link created ${formatDate(s.created_at)}`}
              >
                Revoke
              </Button>
            </li>
          ))}
        </ul>
      )}

      <div className="mt-6 flex justify-end">
        <Button variant="secondary" onClick={onClose}>
          Close
        </Button>
      </div>
    </Dialog>
  );
}
