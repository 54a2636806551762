import { useCallback, useEffect, useReducer, useRef } from 'react';
import { useDropzone } from 'react-dropzone';

import { Button } from '@/components/ui/button';
import { ProgressBar } from '@/components/ui/progress-bar';
import { useToast } from '@/components/ui/toast';
import { quotaLeft, useUsage } from '@/features/usage/api/get-usage';
import { useUploadConfig, type UploadConfig } from '@/features/files/api/get-upload-config';
import {
  abortMultipartUpload,
  isUploadGone,
  STILL_COMPLETING,
  UploadGoneError,
  UploadNotResumableError,
  type UploadSession,
} from '@/features/files/api/multipart-upload';
import { useUploadFile, usesMultipart } from '@/features/files/api/upload-file';
import { findPendingUpload, removePendingUpload, savePendingUpload } from '@/features/files/utils/pending-uploads';
import { toApiError } from '@/lib/api-error';
import { formatBytes } from '@/lib/format';

// interrupted: a multipart upload stopped by a failure; the server keeps
// its parts, so it can resume (or be discarded).
type Status = 'queued' | 'uploading' | 'done' | 'error' | 'interrupted' | 'discarding' | 'cancelled' | 'rejected';

// Files upload a few at a time; the rest wait their turn (and the browser
// keeps connections free for the file list's refreshes).
const MAX_PARALLEL_UPLOADS = 3;

// The abort reason of the Cancel button: only a user's cancel ends the
// server's upload; leaving the page keeps it for a later resume.
const USER_CANCEL = 'cancelled by the user';

const RESTARTED = 'the earlier upload had expired, so it started over';

type Item = {
  id: number;
  file: File;
  status: Status;
  loaded: number;
  error: string | null;
  multipart: boolean;
  // The server's multipart upload holding this file's parts, while there is one.
  uploadId: string | null;
  // Asking the server which parts it already holds.
  resuming: boolean;
  // Every byte is on the server, which is finishing the upload.
  finishing: boolean;
  // Said with the status, e.g. that the upload started over.
  note: string | null;
  // false: the server refused for good; the item can only be dismissed.
  retryable: boolean;
};

type Action =
  | { type: 'add'; item: Item }
  | { type: 'start'; id: number; multipart: boolean; resume: boolean }
  | { type: 'session'; id: number; uploadId: string }
  | { type: 'finishing'; id: number }
  | { type: 'restart'; id: number }
  | { type: 'requeue'; id: number; file?: File }
  | { type: 'progress'; id: number; loaded: number }
  | { type: 'done'; id: number }
  | { type: 'fail'; id: number; error: string; retryable: boolean }
  | { type: 'interrupt'; id: number; error: string }
  | { type: 'discarding'; id: number }
  | { type: 'cancel'; id: number }
  | { type: 'remove'; id: number }
  | { type: 'clear-finished' };

// Still to be finished or ended by the user: kept by "Clear finished".
const UNFINISHED: Status[] = ['queued', 'uploading', 'interrupted', 'discarding'];

function reducer(items: Item[], a: Action): Item[] {
  const update = (id: number, p: (it: Item) => Partial<Item>) => items.map((it) => (it.id === id ? { ...it, ...p(it) } : it));
  switch (a.type) {
    case 'add':
      return [a.item, ...items];
    case 'start':
      // A resume keeps the bytes known to be stored; the server's answer
      // corrects them.
      return update(a.id, (it) => ({
        status: 'uploading',
        loaded: a.resume ? it.loaded : 0,
        error: null,
        note: null,
        multipart: a.multipart,
        resuming: a.resume,
        finishing: false,
      }));
    case 'session':
      return update(a.id, () => ({ uploadId: a.uploadId, resuming: false }));
    case 'finishing':
      return update(a.id, () => ({ resuming: false, finishing: true }));
    case 'restart':
      return update(a.id, () => ({ uploadId: null, resuming: false, loaded: 0, note: RESTARTED }));
    case 'requeue':
      return update(a.id, (it) => ({
        status: 'queued',
        loaded: it.uploadId ? it.loaded : 0,
        error: null,
        file: a.file ?? it.file,
      }));
    case 'progress':
      return update(a.id, () => ({ loaded: a.loaded }));
    case 'done':
      return update(a.id, (it) => ({ status: 'done', loaded: it.file.size, uploadId: null, resuming: false, finishing: false }));
    case 'fail':
      return update(a.id, () => ({ status: 'error', error: a.error, retryable: a.retryable, uploadId: null, resuming: false, finishing: false }));
    case 'interrupt':
      return update(a.id, () => ({ status: 'interrupted', error: a.error, resuming: false, finishing: false }));
    case 'discarding':
      return update(a.id, () => ({ status: 'discarding' }));
    case 'cancel':
      return update(a.id, () => ({ status: 'cancelled', uploadId: null, resuming: false, finishing: false }));
    case 'remove':
      return items.filter((it) => it.id !== a.id);
    case 'clear-finished':
      return items.filter((it) => UNFINISHED.includes(it.status));
  }
}

function newItem(id: number, file: File, p: Partial<Item>): Item {
  return { id, file, status: 'queued', loaded: 0, error: null, multipart: false, uploadId: null, resuming: false, finishing: false, note: null, retryable: true, ...p };
}

function tooLarge(file: File, config: UploadConfig | undefined): boolean {
  return config !== undefined && config.max_file_size_bytes > 0 && file.size > config.max_file_size_bytes;
}

function sameFile(a: File, b: File): boolean {
  return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;
}

// userId: whose unfinished multipart uploads are remembered across page
// loads (none without it).
export function FileUpload({ onUploaded, userId }: { onUploaded?: () => void; userId?: number }) {
  const config = useUploadConfig();
  const usage = useUsage();
  const { mutateAsync: uploadMutation } = useUploadFile();
  const { notify } = useToast();
  const [items, dispatch] = useReducer(reducer, []);
  const nextId = useRef(1);
  const controllers = useRef(new Map<number, AbortController>());
  // The list as last rendered, for deciding what a new file resumes.
  const itemsRef = useRef(items);
  useEffect(() => {
    itemsRef.current = items;
  }, [items]);

  // Abort whatever is still in flight when the page goes away. Multipart
  // uploads stay on the server, remembered for a resume.
  useEffect(() => {
    const map = controllers.current;
    return () => map.forEach((c) => c.abort());
  }, []);

  const remember = useCallback(
    (file: File, s: UploadSession) => {
      if (userId === undefined) return;
      savePendingUpload(userId, {
        upload_id: s.upload_id,
        filename: file.name,
        size: file.size,
        last_modified: file.lastModified,
        part_size: s.part_size,
        expires_at: s.expires_at,
      });
    },
    [userId],
  );
  const forget = useCallback(
    (uploadId: string) => {
      if (userId !== undefined) removePendingUpload(userId, uploadId);
    },
    [userId],
  );
  // endUpload: the user does not want the upload any more. Best effort; the
  // server's janitor ends what this misses.
  const endUpload = useCallback(
    (uploadId: string) => {
      void abortMultipartUpload(uploadId)
        .catch(() => undefined)
        .finally(() => forget(uploadId));
    },
    [forget],
  );

  const start = useCallback(
    async (id: number, file: File, resumeId: string | null) => {
      const controller = new AbortController();
      controllers.current.set(id, controller);
      // The server's upload this file's bytes go to, as far as we know now.
      let uploadId = resumeId;
      dispatch({ type: 'start', id, multipart: resumeId !== null || usesMultipart(file, config.data), resume: resumeId !== null });
      try {
        await uploadMutation({
          file,
          config: config.data,
          options: {
            signal: controller.signal,
            resumeId,
            onProgress: ({ loaded }) => dispatch({ type: 'progress', id, loaded }),
            onSession: (s) => {
              uploadId = s.upload_id;
              remember(file, s);
              dispatch({ type: 'session', id, uploadId: s.upload_id });
            },
            onRestart: (gone) => {
              uploadId = null;
              forget(gone);
              dispatch({ type: 'restart', id });
            },
            onFinishing: () => dispatch({ type: 'finishing', id }),
          },
        });
        // Also when the upload to resume turned out to be completed already
        // (the answer to its completion was lost): nothing was sent again.
        if (uploadId) forget(uploadId);
        dispatch({ type: 'done', id });
        notify('success', `Uploaded ${file.name}`);
        onUploaded?.();
      } catch (err) {
        if (controller.signal.aborted) {
          if (controller.signal.reason === USER_CANCEL && uploadId) endUpload(uploadId);
          return;
        }
        const apiErr = toApiError(err);
        if (err instanceof UploadGoneError) {
          // Nothing left to resume: Retry sends the file again.
          if (uploadId) forget(uploadId);
          dispatch({ type: 'fail', id, error: apiErr.message, retryable: true });
          notify('error', `Upload of ${file.name} failed: ${apiErr.message}`);
        } else if (err instanceof UploadNotResumableError) {
          if (uploadId) forget(uploadId);
          const message = `This upload cannot be resumed: ${apiErr.message}`;
          dispatch({ type: 'fail', id, error: message, retryable: false });
          notify('error', `Upload of ${file.name} failed: ${message}`);
        } else if (uploadId) {
          // The server keeps the parts it has: offer to resume. A part the
          // browser blocked (CORS, mixed content) needs a setting fixed first.
          // One the server was still finishing when polling gave up: a later
          // Resume gets its file.
          const blocked = apiErr.code === 'STORAGE_BLOCKED';
          const hint = blocked
            ? 'Resume once that is fixed.'
            : apiErr.code === STILL_COMPLETING
              ? 'Resume in a minute to get the file; the upload is kept.'
              : 'Resume to send the rest; the parts already sent are kept.';
          dispatch({ type: 'interrupt', id, error: `${apiErr.message} ${hint}` });
          notify('error', `Upload of ${file.name} ${blocked ? 'was blocked' : 'was interrupted'}: ${apiErr.message}`);
        } else {
          const message = apiErr.code === 'FILE_TOO_LARGE' ? `Too large for the server: ${apiErr.message}` : apiErr.message;
          dispatch({ type: 'fail', id, error: message, retryable: true });
          notify('error', `Upload of ${file.name} failed: ${message}`);
        }
      } finally {
        controllers.current.delete(id);
      }
    },
    [config.data, endUpload, forget, notify, onUploaded, remember, uploadMutation],
  );

  // The waiting line, kept in refs: what runs next is decided when an upload
  // is added or finishes, not by rendering.
  const queue = useRef<{ id: number; file: File; resumeId: string | null }[]>([]);
  const running = useRef(0);
  const pumpRef = useRef<() => void>(() => undefined);
  const pump = useCallback(() => {
    while (running.current < MAX_PARALLEL_UPLOADS && queue.current.length > 0) {
      const next = queue.current.shift()!;
      running.current += 1;
      void start(next.id, next.file, next.resumeId).finally(() => {
        running.current -= 1;
        pumpRef.current();
      });
    }
  }, [start]);
  useEffect(() => {
    pumpRef.current = pump;
  }, [pump]);

  const enqueue = (id: number, file: File, resumeId: string | null) => {
    queue.current.push({ id, file, resumeId });
    pump();
  };

  const retry = (item: Item) => {
    dispatch({ type: 'requeue', id: item.id });
    enqueue(item.id, item.file, null);
  };

  const resume = (item: Item) => {
    dispatch({ type: 'requeue', id: item.id });
    enqueue(item.id, item.file, item.uploadId);
  };

  const onDrop = useCallback(
    (accepted: File[]) => {
      // Uploads some item is sending or ending: not to be resumed twice.
      const claimed = new Set(
        itemsRef.current.filter((it) => it.uploadId && it.status !== 'interrupted').map((it) => it.uploadId),
      );
      // What the quota leaves, counted down as this drop's files are queued.
      let left = quotaLeft(usage.data);
      for (const file of accepted) {
        if (left !== null && file.size > left) {
          const error = `File is ${formatBytes(file.size)}; your storage quota has ${formatBytes(left)} left.`;
          dispatch({ type: 'add', item: newItem(nextId.current++, file, { status: 'rejected', error }) });
          notify('error', `${file.name} does not fit in your storage quota (${formatBytes(left)} left)`);
          continue;
        }
        if (left !== null) left -= file.size;
        if (tooLarge(file, config.data)) {
          const limit = formatBytes(config.data!.max_file_size_bytes);
          const error = `File is ${formatBytes(file.size)}; the limit is ${limit}.`;
          dispatch({ type: 'add', item: newItem(nextId.current++, file, { status: 'rejected', error }) });
          notify('error', `${file.name} is too large (limit ${limit})`);
          continue;
        }
        // The same file, interrupted earlier on this page: resume that item.
        const stopped = itemsRef.current.find(
          (it) => it.status === 'interrupted' && it.uploadId && !claimed.has(it.uploadId) && sameFile(it.file, file),
        );
        if (stopped) {
          claimed.add(stopped.uploadId);
          dispatch({ type: 'requeue', id: stopped.id, file });
          queue.current.push({ id: stopped.id, file, resumeId: stopped.uploadId });
          continue;
        }
        // ... or left unfinished by an earlier page (a reload, a closed tab).
        const pending = userId !== undefined && usesMultipart(file, config.data) ? findPendingUpload(userId, file) : null;
        const resumeId = pending && !claimed.has(pending.upload_id) ? pending.upload_id : null;
        if (resumeId) claimed.add(resumeId);
        const id = nextId.current++;
        dispatch({ type: 'add', item: newItem(id, file, { uploadId: resumeId }) });
        queue.current.push({ id, file, resumeId });
      }
      pump();
    },
    [config.data, usage.data, notify, pump, userId],
  );

  const cancel = (item: Item) => {
    queue.current = queue.current.filter((q) => q.id !== item.id);
    const running = controllers.current.get(item.id);
    if (running) {
      // The upload's own catch ends the server's upload, whose id it knows.
      running.abort(USER_CANCEL);
      controllers.current.delete(item.id);
    } else if (item.uploadId) {
      endUpload(item.uploadId); // waiting to resume
    }
    dispatch({ type: 'cancel', id: item.id });
  };

  const discard = async (item: Item) => {
    const { id, file, uploadId } = item;
    if (uploadId) {
      dispatch({ type: 'discarding', id });
      try {
        await abortMultipartUpload(uploadId);
      } catch (err) {
        if (!isUploadGone(err)) {
          const message = toApiError(err).message;
          dispatch({ type: 'interrupt', id, error: `Could not discard the upload: ${message}` });
          notify('error', `Could not discard the upload of ${file.name}: ${message}`);
          return;
        }
      }
      forget(uploadId);
    }
    dispatch({ type: 'remove', id });
    notify('info', `Discarded the upload of ${file.name}`);
  };

  const ready = !config.isPending;
  const { getRootProps, getInputProps, isDragActive, open } = useDropzone({
    onDrop,
    multiple: true,
    noClick: false,
    noKeyboard: true,
    disabled: !ready,
    useFsAccessApi: false,
  });

  const finished = items.some((i) => !UNFINISHED.includes(i.status));

  return (
    <section aria-labelledby="upload-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <h2 id="upload-heading" className="text-lg font-semibold">
        Upload files
      </h2>
      <div
        {...getRootProps({
          'aria-label': 'Drop files here to upload',
          className: `mt-3 flex cursor-pointer flex-col items-center justify-center gap-2 rounded-lg border-2 border-dashed p-6 text-center transition-colors ${
            isDragActive ? 'border-indigo-500 bg-indigo-50' : 'border-slate-300 hover:border-indigo-400'
          } ${ready ? '' : 'opacity-60'}`,
        })}
        data-testid="dropzone"
      >
        <input {...getInputProps({ 'aria-label': 'Choose files to upload' })} />
        <p className="text-sm text-slate-600">{isDragActive ? 'Drop to upload' : 'Drag and drop files here, or'}</p>
        <Button
          variant="secondary"
          disabled={!ready}
          onClick={(e) => {
            e.stopPropagation();
            open();
          }}
        >
          Choose files
        </Button>
        <p className="text-xs text-slate-500">
          {config.data
            ? `Up to ${formatBytes(config.data.max_file_size_bytes)} per file`
            : config.isError
              ? 'Could not load upload limits; the server will check sizes.'
              : 'Loading upload limits…'}
        </p>
      </div>

      {items.length > 0 && (
        <div className="mt-4">
          <div className="flex items-center justify-between">
            <h3 className="text-sm font-medium text-slate-700">Uploads</h3>
            {finished && (
              <Button variant="ghost" size="sm" onClick={() => dispatch({ type: 'clear-finished' })}>
                Clear finished
              </Button>
            )}
          </div>
          <ul className="mt-2 space-y-2" aria-label="Uploads">
            {items.map((it) => (
              <UploadRow
                key={it.id}
                item={it}
                onCancel={() => cancel(it)}
                onRetry={() => retry(it)}
                onResume={() => resume(it)}
                onDiscard={() => void discard(it)}
                onRemove={() => dispatch({ type: 'remove', id: it.id })}
              />
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}

function UploadRow({
  item,
  onCancel,
  onRetry,
  onResume,
  onDiscard,
  onRemove,
}: {
  item: Item;
  onCancel: () => void;
  onRetry: () => void;
  onResume: () => void;
  onDiscard: () => void;
  onRemove: () => void;
}) {
  const { file, status } = item;
  const pct = file.size > 0 ? (item.loaded / file.size) * 100 : status === 'done' ? 100 : 0;
  const statusText: Record<Status, string> = {
    queued: item.uploadId ? 'Waiting to resume' : 'Waiting',
    uploading: item.finishing ? 'Finishing upload…' : item.resuming ? 'Resuming…' : `${Math.round(pct)}%${item.multipart ? ' (multipart)' : ''}`,
    done: 'Uploaded',
    error: 'Failed',
    interrupted: `Interrupted at ${Math.round(pct)}%`,
    discarding: 'Discarding…',
    cancelled: 'Cancelled',
    rejected: 'Too large',
  };
  const problem = status === 'error' || status === 'rejected' || status === 'interrupted';
  const note = item.note && (status === 'queued' || status === 'uploading') ? ` · ${item.note}` : '';
  // The bar also shows what an interrupted upload already stored.
  const showBar = status === 'uploading' || status === 'done' || status === 'interrupted' || status === 'discarding' || (status === 'queued' && item.uploadId !== null);
  return (
    <li className="rounded-md border border-slate-200 p-3" aria-label={file.name}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0 flex-1">
          <p className="truncate text-sm font-medium" title={file.name}>
            {file.name}
          </p>
          <p className="text-xs text-slate-500">
            {formatBytes(file.size)} · <span className={problem ? 'text-red-700' : ''}>{statusText[status] + note}</span>
          </p>
        </div>
        <div className="flex gap-2">
          {(status === 'uploading' || status === 'queued') && (
            <Button variant="secondary" size="sm" onClick={onCancel} aria-label={`Cancel upload of ${file.name}`}>
              Cancel
            </Button>
          )}
          {(status === 'interrupted' || status === 'discarding') && (
            <>
              <Button variant="secondary" size="sm" onClick={onResume} disabled={status === 'discarding'} aria-label={`Resume upload of ${file.name}`}>
                Resume
              </Button>
              <Button
                variant="ghost"
                size="sm"
                onClick={onDiscard}
                isLoading={status === 'discarding'}
                aria-label={`Discard upload of ${file.name}`}
              >
                Discard
              </Button>
            </>
          )}
          {((status === 'error' && item.retryable) || status === 'cancelled') && (
            <Button variant="secondary" size="sm" onClick={onRetry} aria-label={`Retry upload of ${file.name}`}>
              Retry
            </Button>
          )}
          {!UNFINISHED.includes(status) && (
            <Button variant="ghost" size="sm" onClick={onRemove} aria-label={`Dismiss ${file.name}`}>
              Dismiss
            </Button>
          )}
        </div>
      </div>
      {showBar && (
        <div className="mt-2">
          <ProgressBar value={pct} label={`Upload progress for ${file.name}`} />
        </div>
      )}
      {item.error && (
        <p className="mt-1 text-xs text-red-700" role="alert">
          {item.error}
        </p>
      )}
    </li>
  );
}
