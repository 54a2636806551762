import { Link, Navigate, useNavigate, useSearchParams } from 'react-router-dom';

import { AuthLayout } from '@/app/routes/auth-layout';
import { paths, safeRedirect } from '@/config/paths';
import { useAuth } from '@/features/auth/components/auth-provider';
import { SignupForm } from '@/features/auth/components/signup-form';

export default function SignupRoute() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const { status } = useAuth();
  const redirectTo = params.get('redirectTo');

  if (status === 'authenticated') return <Navigate to={safeRedirect(redirectTo)} replace />;

  return (
    <AuthLayout
      title="Create your account"
      footer={
        <>
          Already have an account?{' '}
          <Link className="rounded font-medium text-indigo-700 underline" to={paths.login.getHref(redirectTo)}>
            Log in
          </Link>
        </>
      }
    >
      {/* Signing up logs in: straight on to the app. */}
      <SignupForm onSuccess={() => navigate(safeRedirect(redirectTo), { replace: true })} />
    </AuthLayout>
  );
}
