import { Link } from 'react-router-dom';

import { paths } from '@/config/paths';

export default function NotFoundRoute() {
  return (
    <main className="flex min-h-screen flex-col items-center justify-center gap-4 p-6 text-center">
      <h1 className="text-2xl font-bold">Page not found</h1>
      <Link to={paths.dashboard.path} className="rounded font-medium text-indigo-700 underline">
        Go to your files
      </Link>
    </main>
  );
}
