import { useState, type FormEvent } from 'react';

import { Button } from '@/components/ui/button';
import { InputField } from '@/components/ui/input-field';
import { useAuth } from '@/features/auth/components/auth-provider';
import { validateEmail } from '@/features/auth/utils/validation';
import { toApiError } from '@/lib/api-error';

type Errors = { email?: string | null; password?: string | null; form?: string | null };

export function LoginForm({ onSuccess, initialEmail = '' }: { onSuccess: () => void; initialEmail?: string }) {
  const { login } = useAuth();
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [pending, setPending] = useState(false);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    const next: Errors = {
      email: validateEmail(email),
      password: password ? null : 'Password is required',
    };
    setErrors(next);
    if (next.email || next.password) return;
    setPending(true);
    try {
      await login({ email: email.trim(), password });
      onSuccess();
    } catch (err) {
      const apiErr = toApiError(err);
      if (apiErr.code === 'INVALID_CREDENTIALS' || apiErr.status === 401) {
        setErrors({ form: 'Invalid email or password.' });
      } else if (apiErr.status === 429) {
        setErrors({
          form: `Too many attempts. Try again${apiErr.retryAfter ? ` in ${apiErr.retryAfter} seconds` : ' later'}.`,
        });
      } else {
        setErrors({ form: apiErr.message });
      }
    } finally {
      setPending(false);
    }
  };

  return (
    <form noValidate onSubmit={onSubmit} className="space-y-4" aria-label="Log in">
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
        onChange={(e) => setEmail(e.target.value)}
        required
      />
      <InputField
        label="Password"
        type="password"
        name="password"
        autoComplete="current-password"
        value={password}
        error={errors.password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      <Button type="submit" className="w-full" isLoading={pending}>
        Log in
      </Button>
    </form>
  );
}
