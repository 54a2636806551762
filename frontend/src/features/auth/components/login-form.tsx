import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';

import { Button } from '@/components/ui/button';
import { InputField } from '@/components/ui/input-field';
import { paths } from '@/config/paths';
import { useAuth } from '@/features/auth/components/auth-provider';
import { validateEmail } from '@/features/auth/utils/validation';
import { toApiError, type ApiError } from '@/lib/api-error';

type Errors = { email?: string | null; password?: string | null; code?: string | null; form?: string | null };

// The password step, then — when the account has two-factor on (401
// TOTP_REQUIRED) — the code step: a code from the authenticator app, or one
// of the recovery codes.
type Step = { step: 'password' } | { step: 'code'; kind: 'totp' | 'recovery' };

function tooMany(e: ApiError): string {
  return `Too many attempts. Try again${e.retryAfter ? ` in ${e.retryAfter} seconds` : ' later'}.`;
}

export function LoginForm({ onSuccess, initialEmail = '' }: { onSuccess: () => void; initialEmail?: string }) {
  const { login } = useAuth();
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [step, setStep] = useState<Step>({ step: 'password' });
  const [errors, setErrors] = useState<Errors>({});
  const [pending, setPending] = useState(false);
  const codeRef = useRef<HTMLInputElement>(null);

  const codeStep = step.step === 'code' ? step : null;
  const codeKind = codeStep?.kind ?? null;
  // The code field takes the focus when it appears (and on a switch of kind).
  useEffect(() => {
    if (codeKind) codeRef.current?.focus();
  }, [codeKind]);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (codeStep) {
      const c = code.replace(/\s+/g, '');
      if (!c) {
        setErrors({ code: codeStep.kind === 'totp' ? 'Enter the 6-digit code' : 'Enter a recovery code' });
        return;
      }
    } else {
      const next: Errors = {
        email: validateEmail(email),
        password: password ? null : 'Password is required',
      };
      setErrors(next);
      if (next.email || next.password) return;
    }
    setErrors({});
    setPending(true);
    try {
      const c = code.replace(/\s+/g, '');
      await login({
        email: email.trim(),
        password,
        ...(codeStep?.kind === 'totp' ? { totp_code: c } : {}),
        ...(codeStep?.kind === 'recovery' ? { recovery_code: c } : {}),
      });
      onSuccess();
    } catch (err) {
      const apiErr = toApiError(err);
      if (apiErr.code === 'TOTP_REQUIRED') {
        setStep({ step: 'code', kind: 'totp' });
        setCode('');
      } else if (apiErr.status === 429) {
        setErrors({ form: tooMany(apiErr) });
      } else if (codeStep && apiErr.status === 401 && (apiErr.field === 'totp_code' || apiErr.field === 'recovery_code')) {
        setErrors({ code: codeStep.kind === 'totp' ? 'That code is not correct. Check the time on your device and try a new code.' : 'That recovery code is not correct or was used already.' });
      } else if (apiErr.code === 'INVALID_CREDENTIALS' || apiErr.status === 401) {
        setStep({ step: 'password' });
        setErrors({ form: 'Invalid email or password.' });
      } else {
        setErrors({ form: apiErr.message });
      }
    } finally {
      setPending(false);
    }
  };

  const switchKind = () => {
    if (!codeStep) return;
    setStep({ step: 'code', kind: codeStep.kind === 'totp' ? 'recovery' : 'totp' });
    setCode('');
    setErrors({});
  };

  return (
    <form noValidate onSubmit={onSubmit} className="space-y-4" aria-label="Log in">
      {errors.form && (
        <p role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800">
          {errors.form}
        </p>
      )}
      {codeStep ? (
        <>
          <p className="text-sm text-slate-600">
            {codeStep.kind === 'totp'
              ? 'Two-factor login is on for this account. Enter the code your authenticator app shows.'
              : 'Enter one of the recovery codes you saved when you turned two-factor login on. Each works once.'}
          </p>
          <InputField
            ref={codeRef}
            key={codeStep.kind}
            label={codeStep.kind === 'totp' ? 'Authentication code' : 'Recovery code'}
            name={codeStep.kind === 'totp' ? 'totp_code' : 'recovery_code'}
            autoComplete="one-time-code"
            inputMode={codeStep.kind === 'totp' ? 'numeric' : 'text'}
            spellCheck={false}
            value={code}
            error={errors.code}
            onChange={(e) => setCode(e.target.value)}
            required
          />
          <Button type="submit" className="w-full" isLoading={pending}>
            Verify
          </Button>
          <div className="flex flex-wrap justify-between gap-2 text-sm">
            <button type="button" className="rounded text-indigo-700 underline" onClick={switchKind}>
              {codeStep.kind === 'totp' ? 'Use a recovery code' : 'Use the authenticator app'}
            </button>
            <button
              type="button"
              className="rounded text-slate-600 underline"
              onClick={() => {
                setStep({ step: 'password' });
                setPassword('');
                setErrors({});
              }}
            >
              Start over
            </button>
          </div>
        </>
      ) : (
        <>
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
          <p className="text-center text-sm">
            <Link className="rounded text-indigo-700 underline" to={paths.forgotPassword.path}>
              Forgot password?
            </Link>
          </p>
        </>
      )}
    </form>
  );
}
