import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';

import { Button } from '@/components/ui/button';
import { InputField } from '@/components/ui/input-field';
import { paths } from '@/config/paths';
import { usePasswordRules } from '@/features/auth/api/get-password-blocklist';
import { useConfirmPasswordReset } from '@/features/auth/api/password-reset';
import { PasswordStrength } from '@/features/auth/components/password-strength';
import { validateNewPassword } from '@/features/auth/utils/validation';
import { toApiError } from '@/lib/api-error';

type Errors = { password?: string | null; confirm?: string | null; form?: string | null };

// ResetPasswordForm sets a new password with the token of a mailed link.
// On success every session of the account has ended (this browser's too).
export function ResetPasswordForm({ token, onSuccess }: { token: string; onSuccess: () => void }) {
  const { rules, blocklist } = usePasswordRules();
  const confirmReset = useConfirmPasswordReset();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [linkDead, setLinkDead] = useState(false);

  if (linkDead) {
    return (
      <div role="alert" className="space-y-3 text-sm">
        <p className="rounded-md bg-red-50 p-3 text-red-800">This link is not valid any more: it was used, it expired (links last 30 minutes), or it is incomplete.</p>
        <Link className="rounded font-medium text-indigo-700 underline" to={paths.forgotPassword.path}>
          Ask for a new link
        </Link>
      </div>
    );
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const next: Errors = {
      password: validateNewPassword(password, { rules, blocklist }),
      confirm: confirm === password ? null : 'The two passwords are not the same',
    };
    setErrors(next);
    if (next.password || next.confirm) return;
    confirmReset.mutate(
      { token, new_password: password },
      {
        onSuccess,
        onError: (err) => {
          const e = toApiError(err);
          if (e.code === 'RESET_TOKEN_INVALID') setLinkDead(true);
          else if (e.code === 'VALIDATION_ERROR' && (e.field === 'new_password' || /password/i.test(e.message))) setErrors({ password: e.message });
          else if (e.status === 429) setErrors({ form: `Too many attempts. Try again${e.retryAfter ? ` in ${e.retryAfter} seconds` : ' later'}.` });
          else setErrors({ form: e.message });
        },
      },
    );
  };

  return (
    <form noValidate onSubmit={onSubmit} className="space-y-4" aria-label="Choose a new password">
      {errors.form && (
        <p role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800">
          {errors.form}
        </p>
      )}
      <InputField
        label="New password"
        type="password"
        name="new-password"
        autoComplete="new-password"
        value={password}
        error={errors.password}
        onChange={(e) => {
          setPassword(e.target.value);
          setErrors((x) => ({ ...x, password: null }));
        }}
        onBlur={() => password && setErrors((x) => ({ ...x, password: validateNewPassword(password, { rules, blocklist }) }))}
        hint={<PasswordStrength password={password} />}
        required
      />
      <InputField
        label="Repeat the new password"
        type="password"
        name="confirm-password"
        autoComplete="new-password"
        value={confirm}
        error={errors.confirm}
        onChange={(e) => {
          setConfirm(e.target.value);
          setErrors((x) => ({ ...x, confirm: null }));
        }}
        required
      />
      <p className="text-xs text-slate-500">Every device logged in to this account will be logged out.</p>
      <Button type="submit" className="w-full" isLoading={confirmReset.isPending}>
        Set the new password
      </Button>
    </form>
  );
}
