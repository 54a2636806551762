import { QRCodeSVG } from 'qrcode.react';
import { useEffect, useReducer, useRef, useState, type FormEvent } from 'react';

import { Button } from '@/components/ui/button';
import { InputField } from '@/components/ui/input-field';
import { useToast } from '@/components/ui/toast';
import { useDisableTotp, useEnableTotp, useSetupTotp, type TotpSetup } from '@/features/auth/api/totp';
import { useAuth } from '@/features/auth/components/auth-provider';
import { toApiError } from '@/lib/api-error';

// What the two-factor section shows: the status (on or off), the setup (QR
// code, then a code to confirm), the recovery codes (once, right after
// enabling), or the form that turns it off.
type View =
  | { view: 'status' }
  | { view: 'setup'; setup: TotpSetup }
  | { view: 'codes'; codes: string[] }
  | { view: 'disable' };

type Action =
  | { type: 'set-up'; setup: TotpSetup }
  | { type: 'enabled'; codes: string[] }
  | { type: 'disable' }
  | { type: 'done' };

function reducer(_state: View, a: Action): View {
  switch (a.type) {
    case 'set-up':
      return { view: 'setup', setup: a.setup };
    case 'enabled':
      return { view: 'codes', codes: a.codes };
    case 'disable':
      return { view: 'disable' };
    case 'done':
      return { view: 'status' };
  }
}

// The secret in groups of four, for typing into an app by hand.
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

export function TwoFactorSettings() {
  const { user } = useAuth();
  const [state, dispatch] = useReducer(reducer, { view: 'status' });
  const setup = useSetupTotp();
  const { notify } = useToast();
  const enabled = user?.totp_enabled === true;

  const start = () =>
    setup.mutate(undefined, {
      onSuccess: (s) => dispatch({ type: 'set-up', setup: s }),
      onError: (err) => notify('error', `Could not start the setup: ${toApiError(err).message}`),
    });

  return (
    <section aria-labelledby="totp-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <h2 id="totp-heading" className="text-lg font-semibold">
        Two-factor login
      </h2>
      {state.view === 'status' && (
        <div className="mt-2 space-y-3 text-sm text-slate-700">
          {enabled ? (
            <>
              <p>
                <span className="rounded bg-green-50 px-1.5 py-0.5 font-medium text-green-800">On</span> Logging in asks for a code from
                your authenticator app (or a recovery code).
              </p>
              <Button variant="secondary" size="sm" onClick={() => dispatch({ type: 'disable' })}>
                Turn off two-factor login
              </Button>
            </>
          ) : (
            <>
              <p>Off. With it on, logging in also asks for a code from an authenticator app on your phone, so a stolen password is not enough.</p>
              <Button size="sm" onClick={start} isLoading={setup.isPending}>
                Set up two-factor login
              </Button>
            </>
          )}
        </div>
      )}
      {state.view === 'setup' && (
        <EnableForm setup={state.setup} onEnabled={(codes) => dispatch({ type: 'enabled', codes })} onCancel={() => dispatch({ type: 'done' })} />
      )}
      {state.view === 'codes' && <RecoveryCodes codes={state.codes} onDone={() => dispatch({ type: 'done' })} />}
      {state.view === 'disable' && (
        <DisableForm
          onDisabled={() => {
            notify('success', 'Two-factor login is off.');
            dispatch({ type: 'done' });
          }}
          onCancel={() => dispatch({ type: 'done' })}
        />
      )}
    </section>
  );
}

function EnableForm({ setup, onEnabled, onCancel }: { setup: TotpSetup; onEnabled: (codes: string[]) => void; onCancel: () => void }) {
  const enable = useEnableTotp();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const c = code.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(c)) {
      setError('Enter the 6 digits the app shows');
      return;
    }
    enable.mutate(c, {
      onSuccess: onEnabled,
      onError: (err) => {
        const a = toApiError(err);
        setError(a.code === 'VALIDATION_ERROR' ? 'That code is not correct. Check the time on your phone and try the next code.' : a.message);
      },
    });
  };

  return (
    <form noValidate onSubmit={onSubmit} className="mt-3 space-y-4" aria-label="Set up two-factor login">
      <h3 ref={headingRef} tabIndex={-1} className="text-sm font-medium text-slate-900 focus:outline-none">
        1. Scan this QR code with an authenticator app
      </h3>
      <div className="flex flex-wrap items-start gap-4">
        <div className="rounded-md border border-slate-200 bg-white p-3">
          <QRCodeSVG value={setup.otpauth_uri} size={176} marginSize={2} title="QR code for your authenticator app" role="img" aria-label="QR code for your authenticator app" />
        </div>
        <div className="min-w-0 text-sm text-slate-600">
          <p>Or type this key into the app:</p>
          <p className="mt-1 break-all font-mono text-base text-slate-900" data-testid="totp-secret">
            {grouped(setup.secret)}
          </p>
          <p className="mt-2 text-xs">Time-based, 6 digits, every 30 seconds.</p>
        </div>
      </div>
      <h3 className="text-sm font-medium text-slate-900">2. Enter the code the app shows</h3>
      <InputField
        className="max-w-xs"
        label="Code from the app"
        name="totp-code"
        autoComplete="one-time-code"
        inputMode="numeric"
        value={code}
        error={error}
        onChange={(e) => {
          setCode(e.target.value);
          setError(null);
        }}
        required
      />
      <div className="flex flex-wrap gap-3">
        <Button type="submit" isLoading={enable.isPending}>
          Turn on
        </Button>
        <Button variant="secondary" onClick={onCancel} disabled={enable.isPending}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

// RecoveryCodes: shown once, right after two-factor login is turned on
// (the server keeps only their hashes).
function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const { notify } = useToast();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [download, setDownload] = useState<string | null>(null);
  useEffect(() => headingRef.current?.focus(), []);
  useEffect(() => {
    const url = URL.createObjectURL(new Blob([`Hybrid Storage recovery codes (each works once)\n\n${codes.join('\n')}\n`], { type: 'text/plain' }));
    setDownload(url);
    return () => URL.revokeObjectURL(url);
  }, [codes]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      notify('success', 'Recovery codes copied');
    } catch {
      notify('error', 'Could not copy: select the codes and copy them by hand.');
    }
  };

  return (
    <div className="mt-3 space-y-3 text-sm">
      <h3 ref={headingRef} tabIndex={-1} className="font-medium text-slate-900 focus:outline-none">
        Two-factor login is on. Save your recovery codes
      </h3>
      <p className="text-slate-600">
        If you lose your phone, each of these codes logs you in once instead of a code from the app. This is the only time they are shown.
      </p>
      <ul aria-label="Recovery codes" className="grid grid-cols-1 gap-1 rounded-md bg-slate-50 p-3 font-mono sm:grid-cols-2">
        {codes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ul>
      <div className="flex flex-wrap gap-3">
        <Button variant="secondary" size="sm" onClick={() => void copy()}>
          Copy codes
        </Button>
        {download && (
          <a
            href={download}
            download="hybrid-storage-recovery-codes.txt"
            className="inline-flex items-center rounded-md px-2.5 py-1.5 text-sm font-medium text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 focus-visible:outline-3 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
          >
            Download as a file
          </a>
        )}
        <Button size="sm" onClick={onDone}>
          I have saved them
        </Button>
      </div>
    </div>
  );
}

function DisableForm({ onDisabled, onCancel }: { onDisabled: () => void; onCancel: () => void }) {
  const disable = useDisableTotp();
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [errors, setErrors] = useState<{ password?: string | null; code?: string | null; form?: string | null }>({});
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const v = { password: password ? null : 'Enter your password', code: code.trim() ? null : 'Enter a code from the app or a recovery code' };
    setErrors(v);
    if (v.password || v.code) return;
    disable.mutate(
      { password, code: code.replace(/\s+/g, '') },
      {
        onSuccess: onDisabled,
        onError: (err) => {
          const a = toApiError(err);
          if (a.code === 'INVALID_CREDENTIALS' && a.field === 'code') setErrors({ code: 'That code is not correct.' });
          else if (a.code === 'INVALID_CREDENTIALS') setErrors({ password: 'The password is not correct.' });
          else if (a.code === 'TOTP_NOT_ENABLED') onDisabled();
          else setErrors({ form: a.message });
        },
      },
    );
  };

  return (
    <form noValidate onSubmit={onSubmit} className="mt-3 max-w-md space-y-4" aria-label="Turn off two-factor login">
      {errors.form && (
        <p role="alert" className="rounded-md bg-red-50 p-3 text-sm text-red-800">
          {errors.form}
        </p>
      )}
      <InputField
        ref={first}
        label="Password"
        type="password"
        name="password"
        autoComplete="current-password"
        value={password}
        error={errors.password}
        onChange={(e) => setPassword(e.target.value)}
        required
      />
      <InputField
        label="Code from the app, or a recovery code"
        name="code"
        autoComplete="one-time-code"
        value={code}
        error={errors.code}
        onChange={(e) => setCode(e.target.value)}
        required
      />
      <div className="flex flex-wrap gap-3">
        <Button type="submit" variant="danger" isLoading={disable.isPending}>
          Turn off
        </Button>
        <Button variant="secondary" onClick={onCancel} disabled={disable.isPending}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
