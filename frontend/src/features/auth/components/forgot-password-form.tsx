import { useState, type FormEvent } from 'react';

import { Button } from '@/components/ui/button';
import { InputField } from '@/components/ui/input-field';
import { useRequestPasswordReset } from '@/features/auth/api/password-reset';
import { validateEmail } from '@/features/auth/utils/validation';
import { toApiError } from '@/lib/api-error';
import { useServerConfig } from '@/lib/server-config';

// ForgotPasswordForm asks for a reset link. The page says the same thing
// whether an account has the address or not, as the server does.
export function ForgotPasswordForm() {
  const mailOff = useServerConfig().data?.password_reset === false;
  const request = useRequestPasswordReset();
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);

  if (sentTo) {
    return (
      <div role="status" className="space-y-2 text-sm text-slate-700">
        <p className="font-medium text-slate-900">Check your email</p>
        <p>
          If an account uses <strong className="break-all">{sentTo}</strong>, we sent it a link to choose a new password. The link
          works once, for 30 minutes. Look in your spam folder too.
        </p>
      </div>
    );
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const v = validateEmail(email);
    setError(v);
    if (v) return;
    request.mutate(email.trim(), { onSuccess: () => setSentTo(email.trim()) });
  };

  const apiErr = request.error ? toApiError(request.error) : null;
  let form: string | null = null;
  if (mailOff || apiErr?.status === 503) {
    form = 'This server cannot send mail, so a password cannot be reset by email. Ask the administrator.';
  } else if (apiErr?.status === 429) {
    form = `Too many requests. Try again${apiErr.retryAfter ? ` in ${apiErr.retryAfter} seconds` : ' later'}.`;
  } else if (apiErr) {
    form = apiErr.message;
  }

  return (
    <form noValidate onSubmit={onSubmit} className="space-y-4" aria-label="Reset your password">
      {form && (
        <p role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800">
          {form}
        </p>
      )}
      <p className="text-sm text-slate-600">Enter the email address of your account. We will send you a link to choose a new password.</p>
      <InputField
        label="Email"
        type="email"
        name="email"
        autoComplete="email"
        value={email}
        error={error}
        onChange={(e) => {
          setEmail(e.target.value);
          setError(null);
        }}
        required
      />
      <Button type="submit" className="w-full" isLoading={request.isPending} disabled={mailOff}>
        Send the link
      </Button>
    </form>
  );
}
