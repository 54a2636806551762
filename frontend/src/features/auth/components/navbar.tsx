import { useState } from 'react';
import { Link, NavLink, useLocation } from 'react-router-dom';

import { Button } from '@/components/ui/button';
import { paths } from '@/config/paths';
import { useAuth } from '@/features/auth/components/auth-provider';

const linkClass = ({ isActive }: { isActive: boolean }) =>
  `rounded px-2 py-1 text-sm ${isActive ? 'bg-indigo-50 font-medium text-indigo-700' : 'text-slate-700 hover:bg-slate-100'}`;

export function Navbar() {
  const { user, logout } = useAuth();
  const [leaving, setLeaving] = useState(false);
  // Files is lit in every folder too (/files/<id>).
  const { pathname } = useLocation();
  const inFiles = pathname.startsWith(`${paths.files.path}/`) || pathname === paths.files.path;
  // ProtectedRoute sends the now anonymous user to /login.
  const onLogout = () => {
    setLeaving(true);
    void logout().finally(() => setLeaving(false));
  };

  return (
    <header className="border-b border-slate-200 bg-white">
      <nav aria-label="Main" className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3">
        <div className="flex items-center gap-3">
          <Link to={paths.dashboard.path} className="flex shrink-0 items-center gap-2 rounded font-semibold text-indigo-700">
            <img src="/favicon.svg" alt="" width={24} height={24} />
            <span className="hidden sm:inline">Hybrid Storage</span>
            <span className="sr-only sm:hidden">Hybrid Storage</span>
          </Link>
          <NavLink to={paths.dashboard.path} className={({ isActive }) => linkClass({ isActive: isActive || inFiles })} end>
            Files
          </NavLink>
          <NavLink to={paths.trash.path} className={linkClass}>
            Trash
          </NavLink>
          <NavLink to={paths.account.path} className={linkClass}>
            Account
          </NavLink>
        </div>
        <div className="flex min-w-0 items-center gap-3">
          {user && (
            <span className="truncate text-sm text-slate-600" title={user.email}>
              <span className="sr-only">Signed in as </span>
              {user.email}
            </span>
          )}
          <Button variant="secondary" size="sm" onClick={onLogout} isLoading={leaving}>
            Log out
          </Button>
        </div>
      </nav>
    </header>
  );
}
