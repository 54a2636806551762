import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';

import { ErrorFallback } from '@/components/ui/error-fallback';
import { Spinner } from '@/components/ui/spinner';
import { paths } from '@/config/paths';
import { useAuth } from '@/features/auth/components/auth-provider';

export function ProtectedRoute({ children }: { children: ReactNode }) {
  const { status, logoutReason, error, retry } = useAuth();
  const location = useLocation();

  if (status === 'anonymous') {
    if (logoutReason === 'user') return <Navigate to={paths.login.path} replace />;
    return <Navigate to={paths.login.getHref(location.pathname + location.search)} replace />;
  }
  if (status === 'loading') return <Spinner label="Checking your session" />;
  if (status === 'error') {
    return (
      <div className="mx-auto max-w-md p-6">
        <ErrorFallback title="Could not load your account" message={error?.message} onRetry={retry} />
      </div>
    );
  }
  return <>{children}</>;
}
