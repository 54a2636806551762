import { useEffect, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';

import { AuthLayout } from '@/app/routes/auth-layout';
import { paths } from '@/config/paths';
import { useAuth } from '@/features/auth/components/auth-provider';
import { ResetPasswordForm } from '@/features/auth/components/reset-password-form';

// /reset-password#<token>: the mailed link. The token is taken from the
// fragment once and the fragment dropped from the address bar and history,
// so that it is not left behind in the browser.
export default function ResetPasswordRoute() {
  const location = useLocation();
  const navigate = useNavigate();
  const { status, endSession } = useAuth();
  const [token] = useState(() => decodeURIComponent(location.hash.replace(/^#/, '')));

  useEffect(() => {
    if (location.hash) navigate({ pathname: location.pathname, search: location.search }, { replace: true });
  }, [location.hash, location.pathname, location.search, navigate]);

  return (
    <AuthLayout
      title="Choose a new password"
      footer={
        <Link className="rounded font-medium text-indigo-700 underline" to={paths.login.path}>
          Back to log in
        </Link>
      }
    >
      {token ? (
        <ResetPasswordForm
          token={token}
          onSuccess={() => {
            // The server ended every session of the account.
            if (status === 'authenticated') endSession();
            navigate(paths.login.path, { replace: true, state: { reset: true } });
          }}
        />
      ) : (
        <div role="alert" className="space-y-3 text-sm">
          <p className="rounded-md bg-red-50 p-3 text-red-800">This link is incomplete. Open the whole link from the email, or ask for a new one.</p>
          <Link className="rounded font-medium text-indigo-700 underline" to={paths.forgotPassword.path}>
            Ask for a new link
          </Link>
        </div>
      )}
    </AuthLayout>
  );
}
