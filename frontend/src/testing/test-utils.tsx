import { QueryClient } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactElement, ReactNode } from 'react';
import { createMemoryRouter, MemoryRouter, RouterProvider } from 'react-router-dom';

import { AppProvider } from '@/app/provider';
import { routes } from '@/app/router';
import { session } from '@/lib/session';
import { createUser, startSession, type MockUser } from '@/testing/mock-db';

// Load the lazy route chunks up front so the first render of a test does not
// wait on module transformation.
import '@/app/routes/account';
import '@/app/routes/dashboard';
import '@/app/routes/forgot-password';
import '@/app/routes/login';
import '@/app/routes/reset-password';
import '@/app/routes/signup';
import '@/app/routes/trash';

// A fresh QueryClient per test, no retries, so failures show at once.
export function createTestQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { retry: false, gcTime: Infinity, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

// logIn starts a session for a (new) user as a login in this page would
// have: the server's session and refresh cookie, the access token in memory.
export function logIn(user: MockUser = createUser()): MockUser {
  session.begin(startSession(user).answer);
  return user;
}

// renderApp renders the whole app (providers + real routes) at a URL.
export function renderApp(url = '/dashboard') {
  const queryClient = createTestQueryClient();
  const router = createMemoryRouter(routes, { initialEntries: [url] });
  const result = render(
    <AppProvider queryClient={queryClient}>
      <RouterProvider router={router} />
    </AppProvider>,
  );
  return { ...result, router, queryClient, user: userEvent.setup() };
}

// renderWithProviders renders one component inside the app's providers.
export function renderWithProviders(ui: ReactElement, { url = '/' }: { url?: string } = {}) {
  const queryClient = createTestQueryClient();
  const Wrapper = ({ children }: { children: ReactNode }) => (
    <AppProvider queryClient={queryClient}>
      <MemoryRouter initialEntries={[url]}>{children}</MemoryRouter>
    </AppProvider>
  );
  const result = render(ui, { wrapper: Wrapper });
  return { ...result, queryClient, user: userEvent.setup() };
}

export { screen };
