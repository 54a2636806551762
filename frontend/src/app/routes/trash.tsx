import { useEffect } from 'react';

import { Navbar } from '@/features/auth/components/navbar';
import { TrashList } from '@/features/trash/components/trash-list';

export default function TrashRoute() {
  useEffect(() => {
    document.title = 'Trash · Hybrid Storage';
  }, []);

  return (
    <div className="min-h-screen">
      <Navbar />
      <main className="mx-auto max-w-6xl space-y-6 px-4 py-6">
        <h1 className="sr-only">Trash</h1>
        <TrashList />
      </main>
    </div>
  );
}
