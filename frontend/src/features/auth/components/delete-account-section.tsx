import { useState } from 'react';

import { Button } from '@/components/ui/button';
import { DeleteAccountDialog } from '@/features/auth/components/delete-account-dialog';

export function DeleteAccountSection() {
  const [deleting, setDeleting] = useState(false);
  return (
    <section aria-labelledby="delete-heading" className="rounded-lg border border-red-200 bg-white p-4 shadow-sm">
      <h2 id="delete-heading" className="text-lg font-semibold text-red-800">
        Delete account
      </h2>
      <p className="mt-2 text-sm text-slate-600">Deletes the account, every file in both tiers and the trash, for good.</p>
      <Button variant="danger" size="sm" className="mt-3" onClick={() => setDeleting(true)}>
        Delete account
      </Button>
      <DeleteAccountDialog open={deleting} onClose={() => setDeleting(false)} />
    </section>
  );
}
