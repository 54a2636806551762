import { Link } from 'react-router-dom';

import { AuthLayout } from '@/app/routes/auth-layout';
import { paths } from '@/config/paths';
import { ForgotPasswordForm } from '@/features/auth/components/forgot-password-form';

export default function ForgotPasswordRoute() {
  return (
    <AuthLayout
      title="Forgot your password?"
      footer={
        <Link className="rounded font-medium text-indigo-700 underline" to={paths.login.path}>
          Back to log in
        </Link>
      }
    >
      <ForgotPasswordForm />
    </AuthLayout>
  );
}
