import { Link, Navigate, useLocation, useNavigate, useSearchParams } from 'react-router-dom';

import { AuthLayout } from '@/app/routes/auth-layout';
import { paths, safeRedirect } from '@/config/paths';
import { useAuth } from '@/features/auth/components/auth-provider';
import { LoginForm } from '@/features/auth/components/login-form';

type LoginState = { email?: string; reset?: boolean } | null;

export default function LoginRoute() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const { status } = useAuth();
  const redirectTo = safeRedirect(params.get('redirectTo'));
  const state = location.state as LoginState;

  if (status === 'authenticated') return <Navigate to={redirectTo} replace />;

  return (
    <AuthLayout
      title="Log in"
      footer={
        <>
          No account yet?{' '}
          <Link className="rounded font-medium text-indigo-700 underline" to={paths.signup.getHref(params.get('redirectTo'))}>
            Sign up
          </Link>
        </>
      }
    >
      {state?.reset && (
        <p role="status" className="mb-4 rounded-md bg-green-50 p-3 text-sm text-green-800">
          Your password was changed. Log in with the new one.
        </p>
      )}
      <LoginForm initialEmail={state?.email ?? ''} onSuccess={() => navigate(redirectTo, { replace: true })} />
    </AuthLayout>
  );
}
