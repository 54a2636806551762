import { useCallback, useEffect, useReducer, useRef } from 'react';
import { useDropzone } from 'react-dropzone';

import { Button } from '@/components/ui/button';
import { ProgressBar } from '@/components/ui/progress-bar';
import { useToast } from '@/components/ui/toast';
import { useUploadConfig, type UploadConfig } from '@/features/files/api/get-upload-config';
import { useUploadFile, usesMultipart } from '@/features/files/api/upload-file';
import { toApiError } from '@/lib/api-error';
import { formatBytes } from '@/lib/format';

type Status = 'queued' | 'uploading' | 'done' | 'error' | 'cancelled' | 'rejected';

// Files upload a few at a time; the rest wait their turn (and the browser
// keeps connections free for the file list's refreshes).
const MAX_PARALLEL_UPLOADS = 3;

type Item = {
  id: number;
  file: File;
  status: Status;
  loaded: number;
  error: string | null;
  multipart: boolean;
};

type Action =
  | { type: 'add'; item: Item }
  | { type: 'start'; id: number; multipart: boolean }
  | { type: 'requeue'; id: number }
  | { type: 'progress'; id: number; loaded: number }
  | { type: 'done'; id: number }
  | { type: 'fail'; id: number; error: string }
  | { type: 'cancel'; id: number }
  | { type: 'remove'; id: number }
  | { type: 'clear-finished' };

function reducer(items: Item[], a: Action): Item[] {
  const patch = (id: number, p: Partial<Item>) => items.map((it) => (it.id === id ? { ...it, ...p } : it));
  switch (a.type) {
    case 'add':
      return [a.item, ...items];
    case 'start':
      return patch(a.id, { status: 'uploading', loaded: 0, error: null, multipart: a.multipart });
    case 'requeue':
      return patch(a.id, { status: 'queued', loaded: 0, error: null });
    case 'progress':
      return patch(a.id, { loaded: a.loaded });
    case 'done':
      return patch(a.id, { status: 'done', loaded: items.find((i) => i.id === a.id)?.file.size ?? 0 });
    case 'fail':
      return patch(a.id, { status: 'error', error: a.error });
    case 'cancel':
      return patch(a.id, { status: 'cancelled' });
    case 'remove':
      return items.filter((it) => it.id !== a.id);
    case 'clear-finished':
      return items.filter((it) => it.status === 'uploading' || it.status === 'queued');
  }
}

function tooLarge(file: File, config: UploadConfig | undefined): boolean {
  return config !== undefined && config.max_file_size_bytes > 0 && file.size > config.max_file_size_bytes;
}

export function FileUpload({ onUploaded }: { onUploaded?: () => void }) {
  const config = useUploadConfig();
  const { mutateAsync: uploadMutation } = useUploadFile();
  const { notify } = useToast();
  const [items, dispatch] = useReducer(reducer, []);
  const nextId = useRef(1);
  const controllers = useRef(new Map<number, AbortController>());

  // Abort whatever is still in flight when the page goes away.
  useEffect(() => {
    const map = controllers.current;
    return () => map.forEach((c) => c.abort());
  }, []);

  const start = useCallback(
    async (id: number, file: File) => {
      const controller = new AbortController();
      controllers.current.set(id, controller);
      dispatch({ type: 'start', id, multipart: usesMultipart(file, config.data) });
      try {
        await uploadMutation({
          file,
          config: config.data,
          options: {
            signal: controller.signal,
            onProgress: ({ loaded }) => dispatch({ type: 'progress', id, loaded }),
          },
        });
        dispatch({ type: 'done', id });
        notify('success', `Uploaded ${file.name}`);
        onUploaded?.();
      } catch (err) {
        if (controller.signal.aborted) return;
        const apiErr = toApiError(err);
        const message = apiErr.code === 'FILE_TOO_LARGE' ? `Too large for the server: ${apiErr.message}` : apiErr.message;
        dispatch({ type: 'fail', id, error: message });
        notify('error', `Upload of ${file.name} failed: ${message}`);
      } finally {
        controllers.current.delete(id);
      }
    },
    [config.data, notify, onUploaded, uploadMutation],
  );

  // The waiting line, kept in refs: what runs next is decided when an upload
  // is added or finishes, not by rendering.
  const queue = useRef<{ id: number; file: File }[]>([]);
  const running = useRef(0);
  const pumpRef = useRef<() => void>(() => undefined);
  const pump = useCallback(() => {
    while (running.current < MAX_PARALLEL_UPLOADS && queue.current.length > 0) {
      const next = queue.current.shift()!;
      running.current += 1;
      void start(next.id, next.file).finally(() => {
        running.current -= 1;
        pumpRef.current();
      });
    }
  }, [start]);
  useEffect(() => {
    pumpRef.current = pump;
  }, [pump]);

  const enqueue = (id: number, file: File) => {
    queue.current.push({ id, file });
    pump();
  };

  const retry = (id: number, file: File) => {
    dispatch({ type: 'requeue', id });
    enqueue(id, file);
  };

  const onDrop = useCallback(
    (accepted: File[]) => {
      for (const file of accepted) {
        const id = nextId.current++;
        if (tooLarge(file, config.data)) {
          const limit = formatBytes(config.data!.max_file_size_bytes);
          const error = `File is ${formatBytes(file.size)}; the limit is ${limit}.`;
          dispatch({ type: 'add', item: { id, file, status: 'rejected', loaded: 0, error, multipart: false } });
          notify('error', `${file.name} is too large (limit ${limit})`);
          continue;
        }
        dispatch({ type: 'add', item: { id, file, status: 'queued', loaded: 0, error: null, multipart: false } });
        queue.current.push({ id, file });
      }
      pump();
    },
    [config.data, notify, pump],
  );

  const cancel = (id: number) => {
    queue.current = queue.current.filter((q) => q.id !== id);
    controllers.current.get(id)?.abort();
    controllers.current.delete(id);
    dispatch({ type: 'cancel', id });
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

  const finished = items.some((i) => i.status !== 'uploading' && i.status !== 'queued');

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
                onCancel={() => cancel(it.id)}
                onRetry={() => retry(it.id, it.file)}
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
  onRemove,
}: {
  item: Item;
  onCancel: () => void;
  onRetry: () => void;
  onRemove: () => void;
}) {
  const { file, status } = item;
  const pct = file.size > 0 ? (item.loaded / file.size) * 100 : status === 'done' ? 100 : 0;
  const statusText: Record<Status, string> = {
    queued: 'Waiting',
    uploading: `${Math.round(pct)}%${item.multipart ? ' (multipart)' : ''}`,
    done: 'Uploaded',
    error: 'Failed',
    cancelled: 'Cancelled',
    rejected: 'Too large',
  };
  return (
    <li className="rounded-md border border-slate-200 p-3" aria-label={file.name}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0 flex-1">
          <p className="truncate text-sm font-medium" title={file.name}>
            {file.name}
          </p>
          <p className="text-xs text-slate-500">
            {formatBytes(file.size)} · <span className={status === 'error' || status === 'rejected' ? 'text-red-700' : ''}>{statusText[status]}</span>
          </p>
        </div>
        <div className="flex gap-2">
          {(status === 'uploading' || status === 'queued') && (
            <Button variant="secondary" size="sm" onClick={onCancel} aria-label={`Cancel upload of ${file.name}`}>
              Cancel
            </Button>
          )}
          {(status === 'error' || status === 'cancelled') && (
            <Button variant="secondary" size="sm" onClick={onRetry} aria-label={`Retry upload of ${file.name}`}>
              Retry
            </Button>
          )}
          {status !== 'uploading' && status !== 'queued' && (
            <Button variant="ghost" size="sm" onClick={onRemove} aria-label={`Dismiss ${file.name}`}>
              Dismiss
            </Button>
          )}
        </div>
      </div>
      {(status === 'uploading' || status === 'done') && (
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
