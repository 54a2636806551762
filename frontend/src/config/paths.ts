export const paths = {
  home: { path: '/' },
  login: {
    path: '/login',
    getHref: (redirectTo?: string | null) =>
      redirectTo && redirectTo !== '/login'
        ? `/login?redirectTo=${encodeURIComponent(redirectTo)}`
        : '/login',
  },
  signup: {
    path: '/signup',
    getHref: (redirectTo?: string | null) =>
      redirectTo ? `/signup?redirectTo=${encodeURIComponent(redirectTo)}` : '/signup',
  },
  forgotPassword: { path: '/forgot-password' },
  // The mailed link carries its token in the fragment (#<token>): never sent
  // to a server, not in any Referer.
  resetPassword: { path: '/reset-password' },
  dashboard: { path: '/dashboard' },
  account: { path: '/account' },
  trash: { path: '/trash' },
  publicShare: { path: '/s/:token' },
} as const;

// safeRedirect keeps the return path inside this app: only absolute paths of
// this origin, never "//evil.example" or a full URL.
export function safeRedirect(redirectTo: string | null | undefined, fallback: string = paths.dashboard.path): string {
  if (!redirectTo || !redirectTo.startsWith('/') || redirectTo.startsWith('//') || redirectTo.startsWith('/\\')) {
    return fallback;
  }
  return redirectTo;
}
