import { useState, type FormEvent } from 'react';

import { Button } from '@/components/ui/button';
import { InputField } from '@/components/ui/input-field';
import { usePasswordRules } from '@/features/auth/api/get-password-blocklist';
import { useAuth } from '@/features/auth/components/auth-provider';
import { PasswordStrength } from '@/features/auth/components/password-strength';
import { validateEmail, validateNewPassword } from '@/features/auth/utils/validation';
import { toApiError } from '@/lib/api-error';

type Field = 'email' | 'password';
type Errors = { email?: string | null; password?: string | null; form?: string | null };

// SignupForm creates the account and logs in to it (the server answers
// signup as it answers login).
export function SignupForm({ onSuccess }: { onSuccess: () => void }) {
  const { signup } = useAuth();
  const { rules, blocklist } = usePasswordRules();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [touched, setTouched] = useState<Record<Field, boolean>>({ email: false, password: false });
  const [serverErrors, setServerErrors] = useState<Errors>({});
  const [pending, setPending] = useState(false);

  const checkPassword = (pw: string) => validateNewPassword(pw, { rules, blocklist, email });

  // Inline validation: a field shows its error once the user has left it
  // (or tried to submit); the server's answer is shown until the field changes.
  const clientErrors: Errors = {
    email: touched.email ? validateEmail(email) : null,
    password: touched.password ? checkPassword(password) : null,
  };
  const errors: Errors = {
    email: clientErrors.email ?? serverErrors.email,
    password: clientErrors.password ?? serverErrors.password,
    form: serverErrors.form,
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setTouched({ email: true, password: true });
    if (validateEmail(email) || checkPassword(password)) return;
    setServerErrors({});
    setPending(true);
    try {
      await signup({ email: email.trim(), password });
      onSuccess();
    } catch (err) {
      const apiErr = toApiError(err);
      if (apiErr.code === 'EMAIL_TAKEN' || apiErr.status === 409) {
        setServerErrors({ email: 'An account with this email already exists.' });
      } else if (apiErr.status === 429) {
        setServerErrors({
          form: `Too many attempts. Try again${apiErr.retryAfter ? ` in ${apiErr.retryAfter} seconds` : ' later'}.`,
        });
      } else if (apiErr.code === 'VALIDATION_ERROR') {
        const named = apiErr.field === 'password' || apiErr.field === 'email' ? apiErr.field : null;
        const field: Field | null = named ?? (/password/i.test(apiErr.message) ? 'password' : /email/i.test(apiErr.message) ? 'email' : null);
        setServerErrors(field ? { [field]: apiErr.message } : { form: apiErr.message });
      } else {
        setServerErrors({ form: apiErr.message });
      }
    } finally {
      setPending(false);
    }
  };

  return (
    <form noValidate onSubmit={onSubmit} className="space-y-4" aria-label="Sign up">
      {errors.form && (
        <p role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800">
          {errors.form}
        </p>
      )}
      <InputField
        label="Email"
        type="email"
        name="email"
        autoComplete="email"
        value={email}
        error={errors.email}
        onChange={(e) => {
          setEmail(e.target.value);
          setServerErrors((s) => ({ ...s, email: null }));
        }}
        onBlur={() => setTouched((t) => ({ ...t, email: true }))}
        required
      />
      <InputField
        label="Password"
        type="password"
        name="password"
        autoComplete="new-password"
        value={password}
        error={errors.password}
        onChange={(e) => {
          setPassword(e.target.value);
          setServerErrors((s) => ({ ...s, password: null }));
        }}
        onBlur={() => setTouched((t) => ({ ...t, password: true }))}
        hint={
          <>
            <PasswordStrength password={password} />
            <p className="mt-1 text-xs text-slate-500">
              At least {rules?.min_chars ?? 8} characters, not a common password. Longer is stronger.
            </p>
          </>
        }
        required
      />
      <Button type="submit" className="w-full" isLoading={pending}>
        Create account
      </Button>
    </form>
  );
}
