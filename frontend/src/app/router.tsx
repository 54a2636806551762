import { lazy, Suspense, type ReactNode } from 'react';
import { createBrowserRouter, Navigate, Outlet, RouterProvider, type RouteObject } from 'react-router-dom';

import { RouteError } from '@/app/routes/route-error';

import { Spinner } from '@/components/ui/spinner';
import { paths } from '@/config/paths';
import { ProtectedRoute } from '@/features/auth/components/protected-route';

// Every page is its own chunk: the login page does not download the dashboard.
const LoginRoute = lazy(() => import('@/app/routes/login'));
const SignupRoute = lazy(() => import('@/app/routes/signup'));
const DashboardRoute = lazy(() => import('@/app/routes/dashboard'));
const TrashRoute = lazy(() => import('@/app/routes/trash'));
const NotFoundRoute = lazy(() => import('@/app/routes/not-found'));
const PublicShareRoute = lazy(() => import('@/app/routes/public-share'));
const ForgotPasswordRoute = lazy(() => import('@/app/routes/forgot-password'));
const ResetPasswordRoute = lazy(() => import('@/app/routes/reset-password'));
const AccountRoute = lazy(() => import('@/app/routes/account'));

function Page({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Spinner label="Loading page" />}>{children}</Suspense>;
}

const pages: RouteObject[] = [
  { path: paths.home.path, element: <Navigate to={paths.dashboard.path} replace /> },
  { path: paths.login.path, element: <Page><LoginRoute /></Page> },
  { path: paths.signup.path, element: <Page><SignupRoute /></Page> },
  // Logged in or not: the link of a reset mail may open in either.
  { path: paths.forgotPassword.path, element: <Page><ForgotPasswordRoute /></Page> },
  { path: paths.resetPassword.path, element: <Page><ResetPasswordRoute /></Page> },
  // The root (/dashboard, or /files) and a folder (/files/<id>) are one
  // page: going from folder to folder keeps it (and the uploads under way).
  {
    element: (
      <ProtectedRoute>
        <Page>
          <DashboardRoute />
        </Page>
      </ProtectedRoute>
    ),
    // The page reads the folder from the URL; the children only match it.
    children: [
      { path: paths.dashboard.path, element: null },
      { path: paths.files.path, element: null },
      { path: paths.folder.path, element: null },
    ],
  },
  {
    path: paths.trash.path,
    element: (
      <ProtectedRoute>
        <Page>
          <TrashRoute />
        </Page>
      </ProtectedRoute>
    ),
  },
  {
    path: paths.account.path,
    element: (
      <ProtectedRoute>
        <Page>
          <AccountRoute />
        </Page>
      </ProtectedRoute>
    ),
  },
  // A share link's page: public, logged in or not (no ProtectedRoute).
  { path: paths.publicShare.path, element: <Page><PublicShareRoute /></Page> },
  { path: '*', element: <Page><NotFoundRoute /></Page> },
];

export const routes: RouteObject[] = [{ element: <Outlet />, errorElement: <RouteError />, children: pages }];

const router = createBrowserRouter(routes);

export function AppRouter() {
  return <RouterProvider router={router} />;
}
