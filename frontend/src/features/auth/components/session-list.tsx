import { Button } from '@/components/ui/button';
import { ErrorFallback } from '@/components/ui/error-fallback';
import { Skeleton } from '@/components/ui/skeleton';
import { useToast } from '@/components/ui/toast';
import { useEndSession, useLogoutOthers, useSessions, type Session } from '@/features/auth/api/sessions';
import { describeUserAgent } from '@/features/auth/utils/user-agent';
import { toApiError } from '@/lib/api-error';
import { formatDate } from '@/lib/format';

// SessionList: where the user is logged in, this browser first and marked;
// "Log out other devices" ends all the others, End session one of them.
export function SessionList() {
  const sessions = useSessions();
  const endOne = useEndSession();
  const endOthers = useLogoutOthers();
  const { notify } = useToast();

  const list = [...(sessions.data ?? [])].sort((a, b) => Number(b.current) - Number(a.current));
  const others = list.filter((s) => !s.current).length;

  const onEndOthers = () =>
    endOthers.mutate(undefined, {
      onSuccess: () => notify('success', others === 1 ? 'Logged out 1 other device' : `Logged out ${others} other devices`),
      onError: (err) => notify('error', `Could not log out the other devices: ${toApiError(err).message}`),
    });

  const onEnd = (s: Session) =>
    endOne.mutate(s.id, {
      onSuccess: () => notify('success', `Logged out ${describeUserAgent(s.user_agent)}`),
      onError: (err) => {
        const e = toApiError(err);
        // Gone already: the list refreshes either way.
        if (e.code !== 'SESSION_NOT_FOUND') notify('error', `Could not end that session: ${e.message}`);
      },
    });

  return (
    <section aria-labelledby="sessions-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="sessions-heading" className="text-lg font-semibold">
          Where you are logged in
        </h2>
        <Button variant="secondary" size="sm" onClick={onEndOthers} isLoading={endOthers.isPending} disabled={others === 0}>
          Log out other devices
        </Button>
      </div>
      {sessions.isPending ? (
        <Skeleton className="mt-3 h-16" />
      ) : sessions.isError ? (
        <div className="mt-3">
          <ErrorFallback title="Could not load your sessions" message={toApiError(sessions.error).message} onRetry={() => void sessions.refetch()} />
        </div>
      ) : (
        <ul className="mt-3 divide-y divide-slate-200" aria-label="Sessions">
          {list.map((s) => {
            const name = describeUserAgent(s.user_agent);
            return (
              <li key={s.id} className="flex flex-wrap items-center justify-between gap-2 py-3" aria-label={s.current ? `${name}, this device` : name}>
                <div className="min-w-0">
                  <p className="text-sm font-medium" title={s.user_agent}>
                    {name}
                    {s.current && <span className="ml-2 rounded bg-indigo-50 px-1.5 py-0.5 text-xs font-medium text-indigo-700">This device</span>}
                  </p>
                  <p className="text-xs text-slate-500">
                    {s.ip} · last active {formatDate(s.last_used_at)} · logged in {formatDate(s.created_at)}
                  </p>
                </div>
                {!s.current && (
                  <Button
                    variant="ghost"
                    size="sm"
                    onClick={() => onEnd(s)}
                    isLoading={endOne.isPending && endOne.variables === s.id}
                    aria-label={`End session: ${name} (last active ${formatDate(s.last_used_at)})`}
                  >
                    End session
                  </Button>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
