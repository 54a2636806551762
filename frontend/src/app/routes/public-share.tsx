import { useState, type FormEvent } from 'react';
import { useParams } from 'react-router-dom';

import { Button } from '@/components/ui/button';
import { InputField } from '@/components/ui/input-field';
import { Spinner } from '@/components/ui/spinner';
import { openUrl } from '@/features/files/api/download-file';
import { downloadShare, usePublicShare, type FileFacts } from '@/features/shares/api/shares';
import { toApiError } from '@/lib/api-error';
import { formatBytes, formatDate } from '@/lib/format';

// PublicShareRoute is /s/{token}: a shared file for whoever has the link,
// logged in or not. Download asks the API for a presigned URL (sending the
// password in the body when the share has one) and navigates to it. A share
// with a password names its file only once the password matched: the
// download's answer carries the name and size, shown from then on.
export default function PublicShareRoute() {
  const { token = '' } = useParams();
  const share = usePublicShare(token);
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [gone, setGone] = useState(false);
  const [unlocked, setUnlocked] = useState<FileFacts | null>(null);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (share.data?.needs_password && password === '') {
      setError('Enter the password of this link.');
      return;
    }
    setBusy(true);
    try {
      const d = await downloadShare(token, share.data?.needs_password ? password : undefined);
      setUnlocked({ filename: d.filename, file_size: d.file_size, content_type: d.content_type });
      openUrl(d.url);
    } catch (err) {
      const ae = toApiError(err);
      if (ae.code === 'SHARE_GONE') setGone(true);
      else if (ae.code === 'INVALID_CREDENTIALS') setError('Wrong password.');
      else if (ae.code === 'SHARE_PASSWORD_REQUIRED') setError('Enter the password of this link.');
      else setError(ae.message);
    } finally {
      setBusy(false);
    }
  };

  let body;
  const code = share.isError ? toApiError(share.error).code : '';
  if (share.isPending) {
    body = <Spinner label="Loading the shared file" />;
  } else if (gone || code === 'SHARE_GONE') {
    body = (
      <p role="status" className="text-slate-700">
        This link is no longer available: it expired, was revoked, has no downloads left, or its file was deleted.
      </p>
    );
  } else if (code === 'SHARE_NOT_FOUND') {
    body = (
      <p role="status" className="text-slate-700">
        This link does not exist. Check that you have all of it.
      </p>
    );
  } else if (share.isError) {
    body = (
      <p role="alert" className="text-red-700">
        Could not load the shared file: {toApiError(share.error).message}
      </p>
    );
  } else {
    const s = share.data;
    const file = s.needs_password ? unlocked : s;
    body = (
      <form onSubmit={(e) => void onSubmit(e)} className="space-y-4" noValidate>
        <div>
          {file ? (
            <p className="font-medium break-all" data-testid="shared-filename">
              {file.filename}
            </p>
          ) : (
            <p className="font-medium">A password-protected file</p>
          )}
          <p className="text-sm text-slate-600">
            {file ? `${formatBytes(file.file_size)} · ` : 'Its name and size show once the password is given · '}
            link valid until <time dateTime={s.expires_at}>{formatDate(s.expires_at)}</time>
          </p>
        </div>
        {s.needs_password && (
          <InputField
            label="Password"
            type="password"
            autoComplete="off"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={error}
          />
        )}
        {!s.needs_password && error && (
          <p role="alert" className="text-sm text-red-700">
            {error}
          </p>
        )}
        <Button type="submit" isLoading={busy} className="w-full sm:w-auto">
          Download
        </Button>
      </form>
    );
  }

  return (
    <main className="flex min-h-screen items-center justify-center bg-slate-50 p-4">
      <section aria-labelledby="share-heading" className="w-full max-w-md rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
        <h1 id="share-heading" className="mb-4 text-xl font-bold">
          Shared file
        </h1>
        {body}
      </section>
    </main>
  );
}
