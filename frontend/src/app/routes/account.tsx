import { useEffect } from 'react';

import { ChangePasswordForm } from '@/features/auth/components/change-password-form';
import { DeleteAccountSection } from '@/features/auth/components/delete-account-section';
import { Navbar } from '@/features/auth/components/navbar';
import { SessionList } from '@/features/auth/components/session-list';
import { TwoFactorSettings } from '@/features/auth/components/two-factor-settings';

export default function AccountRoute() {
  useEffect(() => {
    document.title = 'Account · Hybrid Storage';
  }, []);

  return (
    <div className="min-h-screen">
      <Navbar />
      <main className="mx-auto max-w-3xl space-y-6 px-4 py-6">
        <h1 className="text-xl font-semibold">Your account</h1>
        <SessionList />
        <ChangePasswordForm />
        <TwoFactorSettings />
        <DeleteAccountSection />
      </main>
    </div>
  );
}
