import { useState, type FormEvent } from 'react';

import { Button } from '@/components/ui/button';
import { InputField } from '@/components/ui/input-field';
import { useToast } from '@/components/ui/toast';
import { useChangePassword } from '@/features/auth/api/change-password';
import { usePasswordRules } from '@/features/auth/api/get-password-blocklist';
import { useAuth } from '@/features/auth/components/auth-provider';
import { PasswordStrength } from '@/features/auth/components/password-strength';
import { validateNewPassword } from '@/features/auth/utils/validation';
import { toApiError } from '@/lib/api-error';

type Errors = { current?: string | null; next?: string | null; form?: string | null };

// ChangePasswordForm: the current password and a new one. This session
// goes on; the server ends every other one.
export function ChangePasswordForm() {
  const { user } = useAuth();
  const { rules, blocklist } = usePasswordRules();
  const change = useChangePassword();
  const { notify } = useToast();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [errors, setErrors] = useState<Errors>({});

  const check = (pw: string) => validateNewPassword(pw, { rules, blocklist, email: user?.email });

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const v: Errors = {
      current: current ? null : 'Enter your current password',
      next: check(next) ?? (next === current ? 'The new password is the same as the current one' : null),
    };
    setErrors(v);
    if (v.current || v.next) return;
    change.mutate(
      { current_password: current, new_password: next },
      {
        onSuccess: () => {
          setCurrent('');
          setNext('');
          notify('success', 'Password changed. Your other devices were logged out.');
        },
        onError: (err) => {
          const a = toApiError(err);
          if (a.code === 'INVALID_CREDENTIALS') setErrors({ current: 'The current password is not correct.' });
          else if (a.code === 'VALIDATION_ERROR' && a.field !== 'current_password') setErrors({ next: a.message });
          else if (a.status === 429) setErrors({ form: `Too many attempts. Try again${a.retryAfter ? ` in ${a.retryAfter} seconds` : ' later'}.` });
          else setErrors({ form: a.message });
        },
      },
    );
  };

  return (
    <section aria-labelledby="password-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <h2 id="password-heading" className="text-lg font-semibold">
        Change password
      </h2>
      <form noValidate onSubmit={onSubmit} className="mt-3 max-w-md space-y-4" aria-label="Change password">
        {errors.form && (
          <p role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800">
            {errors.form}
          </p>
        )}
        {/* For password managers: whose password this is. */}
        <input type="email" name="username" autoComplete="username" value={user?.email ?? ''} readOnly hidden />
        <InputField
          label="Current password"
          type="password"
          name="current-password"
          autoComplete="current-password"
          value={current}
          error={errors.current}
          onChange={(e) => {
            setCurrent(e.target.value);
            setErrors((x) => ({ ...x, current: null }));
          }}
          required
        />
        <InputField
          label="New password"
          type="password"
          name="new-password"
          autoComplete="new-password"
          value={next}
          error={errors.next}
          onChange={(e) => {
            setNext(e.target.value);
            setErrors((x) => ({ ...x, next: null }));
          }}
          onBlur={() => next && setErrors((x) => ({ ...x, next: check(next) }))}
          hint={<PasswordStrength password={next} />}
          required
        />
        <p className="text-xs text-slate-500">Your other devices will be logged out; this one stays logged in.</p>
        <Button type="submit" isLoading={change.isPending}>
          Change password
        </Button>
      </form>
    </section>
  );
}
