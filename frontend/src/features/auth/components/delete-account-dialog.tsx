import { useMutation } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';

import { Button } from '@/components/ui/button';
import { InputField } from '@/components/ui/input-field';
import { useToast } from '@/components/ui/toast';
import { deleteAccount } from '@/features/auth/api/delete-account';
import { useAuth } from '@/features/auth/components/auth-provider';
import { toApiError } from '@/lib/api-error';

// DeleteAccountDialog asks for the password before deleting the account;
// once deleted the session ends and the app goes to the login page.
export function DeleteAccountDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const titleId = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [password, setPassword] = useState('');
  const { endSession } = useAuth();
  const { notify } = useToast();
  const mutation = useMutation({ mutationFn: deleteAccount });

  useEffect(() => {
    if (!open) return;
    const opener = document.activeElement as HTMLElement | null;
    inputRef.current?.focus();
    return () => opener?.focus?.();
  }, [open]);

  if (!open) return null;

  const close = () => {
    setPassword('');
    mutation.reset();
    onClose();
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!password) return;
    mutation.mutate(password, {
      onSuccess: () => {
        notify('info', 'Your account and all its files were deleted.');
        // The server ended every session of the account with it.
        endSession();
      },
    });
  };

  const error = mutation.error ? toApiError(mutation.error) : null;
  const message = error?.code === 'INVALID_CREDENTIALS' ? 'The password is not correct.' : error?.message;

  return (
    <div
      className="fixed inset-0 z-50 flex items-center justify-center bg-slate-900/50 p-4"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !mutation.isPending) {
          e.stopPropagation();
          close();
        }
      }}
    >
      <form
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onSubmit={onSubmit}
        className="w-full max-w-md rounded-lg bg-white p-6 shadow-xl"
      >
        <h2 id={titleId} className="text-lg font-semibold">
          Delete account?
        </h2>
        <p className="mt-2 text-sm text-slate-600">
          Your account, every file in both tiers and the trash are deleted for good. Enter your password to confirm.
        </p>
        <InputField
          ref={inputRef}
          className="mt-4"
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={message}
        />
        <div className="mt-6 flex justify-end gap-3">
          <Button type="button" variant="secondary" onClick={close} disabled={mutation.isPending}>
            Cancel
          </Button>
          <Button type="submit" variant="danger" isLoading={mutation.isPending} disabled={!password}>
            Delete account
          </Button>
        </div>
      </form>
    </div>
  );
}
