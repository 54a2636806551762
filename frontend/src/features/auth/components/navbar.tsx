import { Link } from 'react-router-dom';

import { Button } from '@/components/ui/button';
import { paths } from '@/config/paths';
import { useAuth } from '@/features/auth/components/auth-provider';

export function Navbar() {
  const { user, logout } = useAuth();
  // ProtectedRoute sends the now anonymous user to /login.
  const onLogout = () => logout();

  return (
    <header className="border-b border-slate-200 bg-white">
      <nav aria-label="Main" className="mx-auto flex max-w-6xl items-center justify-between gap-4 px-4 py-3">
        <Link to={paths.dashboard.path} className="flex shrink-0 items-center gap-2 rounded font-semibold text-indigo-700">
          <img src="/favicon.svg" alt="" width={24} height={24} />
          <span className="hidden sm:inline">Hybrid Storage</span>
          <span className="sr-only sm:hidden">Hybrid Storage</span>
        </Link>
        <div className="flex min-w-0 items-center gap-3">
          {user && (
            <span className="truncate text-sm text-slate-600" title={user.email}>
              <span className="sr-only">Signed in as </span>
              {user.email}
            </span>
          )}
          <Button variant="secondary" size="sm" onClick={onLogout}>
            Log out
          </Button>
        </div>
      </nav>
    </header>
  );
}
