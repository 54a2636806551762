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
  // The root of the user's files ("My files").
  dashboard: { path: '/dashboard' },
  // /files is the root too; /files/<id> one folder.
  files: { path: '/files' },
  folder: { path: '/files/:folderId', getHref: (id: number) => `/files/${id}` },
  account: { path: '/account' },
  trash: { path: '/trash' },
  publicShare: { path: '/s/:token' },
} as const;

// folderHref: the page of a folder, or of the root (null).
export function folderHref(id: number | null): string {
  return id === null ? paths.dashboard.path : paths.folder.getHref(id);
}

// safeRedirect keeps the return path inside this app: only absolute paths of
// this origin, never "//evil.example" or a full URL.
export function safeRedirect(redirectTo: string | null | undefined, fallback: string = paths.dashboard.path): string {
  if (!redirectTo || !redirectTo.startsWith('/') || redirectTo.startsWith('//') || redirectTo.startsWith('/\\')) {
    return fallback;
  }
  return redirectTo;
}
