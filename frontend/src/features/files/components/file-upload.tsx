import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useDropzone } from 'react-dropzone';

import { Button } from '@/components/ui/button';
import { ProgressBar } from '@/components/ui/progress-bar';
import { useToast } from '@/components/ui/toast';
import { quotaLeft, useUsage } from '@/features/usage/api/get-usage';
import { useServerConfig, type ServerConfig } from '@/lib/server-config';
import {
  abortMultipartUpload,
  isUploadGone,
  STILL_COMPLETING,
  UploadGoneError,
  UploadNotResumableError,
  type UploadSession,
} from '@/features/files/api/multipart-upload';
import { filesQueryKey } from '@/features/files/api/get-files';
import { foldersQueryKey } from '@/features/folders/api/folders';
import { ROOT_NAME } from '@/features/folders/types';
import { createFolderTree, folderPathOf, type FolderTree } from '@/features/folders/utils/folder-tree';
import { sendFile, usesMultipart } from '@/features/files/api/upload-file';
import {
  claimedUploads,
  claimUpload,
  findPendingUpload,
  heldFile,
  heldFiles,
  heldFolder,
  heldPath,
  holdFile,
  loadPendingUploads,
  loadUnsentUploads,
  onUnfinishedChange,
  removePendingUpload,
  removeUnsentUpload,
  savePendingUpload,
  saveUnsentUpload,
  saveUnsentUploads,
  type UnsentUpload,
} from '@/features/files/utils/pending-uploads';
import { toApiError, type ApiError } from '@/lib/api-error';
import { getToken } from '@/lib/auth-token';
import { formatBytes, formatOver } from '@/lib/format';
import { createUploadQueue, type JobResult, type UploadQueue } from '@/lib/upload-queue';
import { createProgressStore, summarizeBatch, useLoaded, useLoadedSum, type BatchState, type ProgressStore } from '@/lib/upload-progress';

// checking: picked before GET /api/config answered; checked (size, quota,
// a resume) and queued when it does. interrupted: a multipart upload
// stopped by a failure; the server keeps its parts, so it can resume (or be
// discarded).
type Status = 'checking' | 'queued' | 'uploading' | 'done' | 'error' | 'interrupted' | 'discarding' | 'cancelled' | 'rejected';

// Files upload a few at a time; the rest wait their turn (and the browser
// keeps connections free for the file list's refreshes). Four is the
// server's default per-user cap on streamed uploads
// (MAX_STREAMED_UPLOADS_PER_USER): more would only be answered 429, which
// the queue waits out (lib/upload-queue.ts). It is also below the cap on
// open multipart uploads (MAX_OPEN_UPLOADS, 10).
export const MAX_PARALLEL_UPLOADS = 4;

// A batch of more files than this shows one summary instead of a row, a
// toast and an error toast per file; the list shows this many rows, those
// that need the user first.
const SMALL_BATCH = 5;
const MAX_ROWS = 20;

const BUSY_NOTE = 'the server is busy; trying again shortly';

// The abort reason of the Cancel button: only a user's cancel ends the
// server's upload; leaving the page keeps it for a later resume.
const USER_CANCEL = 'cancelled by the user';

const RESTARTED = 'the earlier upload had expired, so it started over';

// The folder the file was picked in is gone (deleted meanwhile).
const TO_ROOT = 'its folder is gone, so it goes to My files';

// The file of a dropped or chosen folder waits for its folder to be made.
const MAKING_FOLDER = 'making its folder';
// Its folder could not be made (too deep, too many folders, refused).
const MISPLACED = 'its folder could not be made, so it goes into the nearest one that exists';

type Item = {
  id: number;
  // Its entry among the unsent uploads (pending-uploads.ts) while it has no
  // multipart upload on the server.
  key: string;
  file: File;
  status: Status;
  // The batch it belongs to: the files added since the list last had
  // nothing unfinished (see batchFor). Its bytes sent are in the progress
  // store, not here.
  batch: number;
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
  // The folder the file goes into (null: the root): the one open when it
  // was picked, until the folders of path are made below it.
  folderId: number | null;
  // A file of a dropped or chosen folder: the folders of its relative path
  // ("album/day-1") still to be made (or found) below folderId; null once
  // folderId is its own folder.
  path: string | null;
  // Why its folder could not be made (it went into the nearest one), or null.
  misplaced: string | null;
};

type Action =
  | { type: 'add'; items: Item[] }
  | { type: 'checked'; id: number; uploadId: string | null }
  | { type: 'reject'; id: number; error: string }
  | { type: 'start'; id: number; multipart: boolean; resume: boolean; note?: string }
  | { type: 'placed'; id: number; folderId: number | null; misplaced: string | null }
  | { type: 'session'; id: number; uploadId: string }
  | { type: 'finishing'; id: number }
  | { type: 'restart'; id: number }
  | { type: 'to-root'; id: number }
  | { type: 'requeue'; id: number; file?: File; batch?: number; note?: string }
  | { type: 'done'; id: number }
  | { type: 'fail'; id: number; error: string; retryable: boolean }
  | { type: 'interrupt'; id: number; error: string }
  | { type: 'discarding'; id: number }
  | { type: 'cancel'; id: number }
  | { type: 'remove'; id: number }
  | { type: 'clear-finished' };

// Still to be finished or ended by the user: kept by "Clear finished".
const UNFINISHED: Status[] = ['checking', 'queued', 'uploading', 'interrupted', 'discarding'];
// Under way or waiting their turn: what keeps a batch open.
const UNDER_WAY: Status[] = ['checking', 'queued', 'uploading'];

function reducer(items: Item[], a: Action): Item[] {
  const update = (id: number, p: (it: Item) => Partial<Item>) => items.map((it) => (it.id === id ? { ...it, ...p(it) } : it));
  switch (a.type) {
    case 'add':
      // Newest first.
      return [...a.items.slice().reverse(), ...items];
    case 'checked':
      return update(a.id, () => ({ status: 'queued', uploadId: a.uploadId }));
    case 'reject':
      return update(a.id, () => ({ status: 'rejected', error: a.error }));
    case 'start':
      // A resume keeps the bytes known to be stored; the server's answer
      // corrects them.
      return update(a.id, () => ({
        status: 'uploading',
        error: null,
        note: a.note ?? null,
        multipart: a.multipart,
        resuming: a.resume,
        finishing: false,
      }));
    case 'placed':
      return update(a.id, () => ({ folderId: a.folderId, path: null, misplaced: a.misplaced, note: a.misplaced ? MISPLACED : null }));
    case 'session':
      return update(a.id, () => ({ uploadId: a.uploadId, resuming: false }));
    case 'finishing':
      return update(a.id, () => ({ resuming: false, finishing: true }));
    case 'restart':
      return update(a.id, () => ({ uploadId: null, resuming: false, note: RESTARTED }));
    case 'to-root':
      return update(a.id, () => ({ uploadId: null, resuming: false, finishing: false, folderId: null, path: null, note: TO_ROOT }));
    case 'requeue':
      return update(a.id, (it) => ({
        status: 'queued',
        error: null,
        file: a.file ?? it.file,
        batch: a.batch ?? it.batch,
        note: a.note ?? it.note,
      }));
    case 'done':
      return update(a.id, () => ({ status: 'done', uploadId: null, resuming: false, finishing: false }));
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

function newKey(): string {
  const a = new Uint8Array(8);
  crypto.getRandomValues(a);
  return `u-${Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function newItem(id: number, file: File, p: Partial<Item>): Item {
  return {
    id,
    key: newKey(),
    file,
    status: 'queued',
    batch: 0,
    error: null,
    multipart: false,
    uploadId: null,
    resuming: false,
    finishing: false,
    note: null,
    retryable: true,
    folderId: null,
    path: null,
    misplaced: null,
    ...p,
  };
}

function tooLarge(file: File, config: ServerConfig | undefined): boolean {
  return config !== undefined && config.max_file_size_bytes > 0 && file.size > config.max_file_size_bytes;
}

function fileKey(name: string, size: number, lastModified: number): string {
  return JSON.stringify([name, size, lastModified]);
}

function sameFile(a: File, b: File): boolean {
  return a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;
}

// A file waiting for its turn: resumeId, the server's multipart upload to
// resume; key, its unsent entry.
// batch: the batch it belongs to (for its toasts); folderId: where it goes,
// once tree has made the folders of path below it (see Item).
type Queued = {
  id: number;
  file: File;
  resumeId: string | null;
  key: string;
  batch: number;
  folderId: number | null;
  path?: string | null;
  tree?: FolderTree | null;
};

// rejectOnAbort: a promise that rejects when signal aborts (a file cancelled
// while its folder is being made frees its place in the line at once).
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

// folderGone: the folder an upload names is no longer there (deleted, or
// in the trash, since the file was picked).
function folderGone(err: unknown): boolean {
  const e = toApiError(err);
  return e.status === 404 && e.code === 'FOLDER_NOT_FOUND';
}

const DONE: JobResult = { type: 'done' };

// How long the file list's refreshes are apart while a batch goes on.
const REFRESH_MS = 1000;

// A 429 without Retry-After is waited out this long (the server sends 5).
const DEFAULT_BUSY_SECONDS = 5;

// serverBusy: the server refused for now, not for good: too many streamed
// uploads at once (its per-user or per-server cap), a rate limit, or a
// gateway's throttling. TOO_MANY_UPLOADS (open multipart uploads) is not that: the
// user must finish or end one first.
function serverBusy(e: ApiError): boolean {
  return e.status === 429 && e.code !== 'TOO_MANY_UPLOADS';
}

// An unfinished upload left by an earlier page (a reload, a closed tab)
// whose file this page does not hold: listed until picked again.
type Earlier = { key: string; filename: string; size: number; uploadId: string | null };

// userId: whose unfinished uploads are remembered across page loads and
// sessions (none without it). folderId: the folder open now (null: the
// root), named folderName: files picked now go there.
export function FileUpload({
  onUploaded,
  userId,
  folderId = null,
  folderName,
}: {
  onUploaded?: () => void;
  userId?: number;
  folderId?: number | null;
  folderName?: string;
}) {
  const config = useServerConfig();
  const usage = useUsage();
  const { notify } = useToast();
  const [items, dispatch] = useReducer(reducer, []);
  // Each upload's bytes sent: outside React state (lib/upload-progress.ts).
  const [progress] = useState(createProgressStore);
  const nextId = useRef(1);
  const controllers = useRef(new Map<number, AbortController>());
  // The list as last rendered, for deciding what a new file resumes.
  const itemsRef = useRef(items);
  useEffect(() => {
    itemsRef.current = items;
  }, [items]);

  // Abort whatever is still in flight when the page goes away (leaving for
  // another page, or the session ended). Nothing is forgotten: the files are
  // held and their entries kept, so that the uploads go on when this page is
  // back (after a login, too); multipart uploads stay on the server.
  const notifyRef = useRef(notify);
  useEffect(() => {
    notifyRef.current = notify;
  }, [notify]);
  useEffect(() => {
    const map = controllers.current;
    return () => {
      map.forEach((c) => c.abort());
      const open = itemsRef.current.filter((it) => UNDER_WAY.includes(it.status)).length;
      if (open > 0 && userId !== undefined) {
        const what = open === 1 ? '1 upload is paused' : `${open} uploads are paused`;
        notifyRef.current('info', getToken() === null ? `${what}: it goes on after you log in again.` : `${what}: it goes on when you are back on Files.`);
      }
    };
  }, [userId]);

  // folderId: where the upload goes (the server's upload knows it; kept for
  // a fresh start should the upload expire).
  const remember = useCallback(
    (file: File, s: UploadSession, folderId: number | null) => {
      if (userId === undefined) return;
      holdFile(userId, s.upload_id, file);
      savePendingUpload(userId, {
        upload_id: s.upload_id,
        filename: file.name,
        size: file.size,
        ...(folderId !== null ? { folder_id: folderId } : {}),
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
  // keepUnsent / dropUnsent: the entry of a file not on the server yet.
  const keepUnsent = useCallback(
    (key: string, file: File, folder: number | null, path: string | null = null) => {
      if (userId !== undefined) saveUnsentUpload(userId, key, file, undefined, folder, path);
    },
    [userId],
  );
  const dropUnsent = useCallback(
    (key: string) => {
      if (userId !== undefined) removeUnsentUpload(userId, key);
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

  // The file list, the usage and the sync count follow new files: at once
  // for the first, then at most once a second while a batch goes on.
  const queryClient = useQueryClient();
  const onUploadedRef = useRef(onUploaded);
  useEffect(() => {
    onUploadedRef.current = onUploaded;
  }, [onUploaded]);
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const refreshMissed = useRef(false);
  const refreshLists = useCallback(() => {
    if (refreshTimer.current !== null) {
      refreshMissed.current = true;
      return;
    }
    void queryClient.invalidateQueries({ queryKey: filesQueryKey });
    onUploadedRef.current?.();
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = null;
      if (refreshMissed.current) {
        refreshMissed.current = false;
        refreshLists();
      }
    }, REFRESH_MS);
  }, [queryClient]);
  useEffect(
    () => () => {
      if (refreshTimer.current !== null) clearTimeout(refreshTimer.current);
    },
    [],
  );

  // A file alone gets its own toast; a batch of several gets one for them
  // all when it ends (below).
  const say = useCallback(
    (batch: number, kind: 'success' | 'error', message: string) => {
      if (itemsRef.current.filter((it) => it.batch === batch).length === 1) notify(kind, message);
    },
    [notify],
  );

  // Files whose folder was gone are said once per batch.
  const toldGone = useRef(new Set<number>());
  // So are files whose folder could not be made.
  const toldMissed = useRef(new Set<number>());

  // The folders of one drop (or one retry) of a folder's files: each made
  // once; the folder list shows them as they come.
  const newTree = useCallback(
    () => createFolderTree({ onCreated: () => void queryClient.invalidateQueries({ queryKey: foldersQueryKey }) }),
    [queryClient],
  );

  const start = useCallback(
    async (job: Queued): Promise<JobResult> => {
      const { id, file, resumeId, key, batch } = job;
      const controller = new AbortController();
      controllers.current.set(id, controller);
      // The server's upload this file's bytes go to, as far as we know now.
      let uploadId = resumeId;
      // While an upload is unfinished, its multipart entry or its unsent
      // entry is stored.
      if (resumeId === null) keepUnsent(key, file, job.folderId, job.path ?? null);
      else if (userId !== undefined) holdFile(userId, resumeId, file);
      // Other tabs see it is under way (not to be listed as unfinished).
      const claims = userId === undefined ? [] : [claimUpload(userId, resumeId ?? key)];
      // A resume keeps the bytes known to be stored; the server's answer
      // corrects them.
      if (resumeId === null) progress.set(id, 0);
      const placing = resumeId === null && !!job.path;
      dispatch({
        type: 'start',
        id,
        multipart: resumeId !== null || usesMultipart(file, config.data),
        resume: resumeId !== null,
        ...(placing ? { note: MAKING_FOLDER } : {}),
      });
      const send = (folderId: number | null, resumeFrom: string | null) =>
        sendFile(file, config.data, {
          signal: controller.signal,
          resumeId: resumeFrom,
          folderId,
          onProgress: ({ loaded }) => progress.set(id, loaded),
          onSession: (s) => {
            uploadId = s.upload_id;
            if (userId !== undefined) claims.push(claimUpload(userId, s.upload_id));
            remember(file, s, job.folderId);
            dropUnsent(key);
            dispatch({ type: 'session', id, uploadId: s.upload_id });
          },
          onRestart: (gone) => {
            uploadId = null;
            forget(gone);
            keepUnsent(key, file, job.folderId);
            progress.set(id, 0);
            dispatch({ type: 'restart', id });
          },
          onFinishing: () => dispatch({ type: 'finishing', id }),
        });
      try {
        if (placing) {
          // A file of a dropped or chosen folder: its folder first (made once
          // for all its files; one that is there already is used).
          const tree = (job.tree ??= newTree());
          const placed = await Promise.race([tree.resolve(job.folderId, job.path ?? null), rejectOnAbort(controller.signal)]);
          job.folderId = placed.folderId;
          job.path = null;
          const misplaced = placed.missed?.message ?? null;
          keepUnsent(key, file, job.folderId);
          dispatch({ type: 'placed', id, folderId: job.folderId, misplaced });
          if (misplaced !== null && !toldMissed.current.has(batch)) {
            toldMissed.current.add(batch);
            notify('info', `${misplaced} The files of that folder go into the nearest folder that exists instead.`);
          }
        }
        try {
          await send(job.folderId, resumeId);
        } catch (err) {
          if (job.folderId === null || controller.signal.aborted || !folderGone(err)) throw err;
          // The folder it was picked in went away meanwhile: the file is not
          // lost, it goes to the root (a multipart upload into the folder is
          // ended and the file sent again).
          if (uploadId) {
            endUpload(uploadId);
            uploadId = null;
          }
          job.folderId = null;
          job.resumeId = null;
          keepUnsent(key, file, null);
          progress.set(id, 0);
          dispatch({ type: 'to-root', id });
          if (!toldGone.current.has(batch)) {
            toldGone.current.add(batch);
            const alone = itemsRef.current.filter((it) => it.batch === batch).length === 1;
            notify(
              'info',
              alone
                ? `The folder ${file.name} was picked in is gone: uploading it to My files instead.`
                : 'The folder these files were picked in is gone: they go to My files instead.',
            );
          }
          await send(null, null);
        }
        // Also when the upload to resume turned out to be completed already
        // (the answer to its completion was lost): nothing was sent again.
        if (uploadId) forget(uploadId);
        dropUnsent(key);
        progress.set(id, file.size);
        dispatch({ type: 'done', id });
        say(batch, 'success', `Uploaded ${file.name}`);
        refreshLists();
      } catch (err) {
        if (controller.signal.aborted) {
          if (controller.signal.reason === USER_CANCEL) {
            if (uploadId) endUpload(uploadId);
            dropUnsent(key);
          }
          return DONE;
        }
        const apiErr = toApiError(err);
        if (serverBusy(apiErr)) {
          // Too many uploads at once (another tab's, say): back in line; the
          // queue waits before it starts anything again. A multipart upload
          // already created resumes.
          job.resumeId = uploadId;
          if (!uploadId) progress.set(id, 0);
          dispatch({ type: 'requeue', id, note: BUSY_NOTE });
          return { type: 'busy', retryAfterMs: (apiErr.retryAfter ?? DEFAULT_BUSY_SECONDS) * 1000 };
        }
        if (err instanceof UploadGoneError) {
          // Nothing left to resume: Retry sends the file again.
          if (uploadId) forget(uploadId);
          keepUnsent(key, file, job.folderId);
          dispatch({ type: 'fail', id, error: apiErr.message, retryable: true });
          say(batch, 'error', `Upload of ${file.name} failed: ${apiErr.message}`);
        } else if (err instanceof UploadNotResumableError) {
          if (uploadId) forget(uploadId);
          dropUnsent(key);
          const message = `This upload cannot be resumed: ${apiErr.message}`;
          dispatch({ type: 'fail', id, error: message, retryable: false });
          say(batch, 'error', `Upload of ${file.name} failed: ${message}`);
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
          say(batch, 'error', `Upload of ${file.name} ${blocked ? 'was blocked' : 'was interrupted'}: ${apiErr.message}`);
        } else {
          // Its unsent entry stays until it is sent or dismissed.
          const message = apiErr.code === 'FILE_TOO_LARGE' ? `Too large for the server: ${apiErr.message}` : apiErr.message;
          dispatch({ type: 'fail', id, error: message, retryable: true });
          say(batch, 'error', `Upload of ${file.name} failed: ${message}`);
        }
      } finally {
        controllers.current.delete(id);
        claims.forEach((release) => release());
      }
      return DONE;
    },
    [config.data, dropUnsent, endUpload, forget, keepUnsent, newTree, notify, progress, refreshLists, remember, say, userId],
  );

  // The waiting line (lib/upload-queue.ts): what runs next is decided when
  // an upload is added or finishes, not by rendering. One per mounted page:
  // once the page goes away nothing more starts (the files wait, held, for
  // the next one).
  const startRef = useRef(start);
  useEffect(() => {
    startRef.current = start;
  }, [start]);
  const queueRef = useRef<UploadQueue<Queued> | null>(null);
  const queue = () =>
    (queueRef.current ??= createUploadQueue<Queued>({ limit: MAX_PARALLEL_UPLOADS, run: (job) => startRef.current(job) }));
  useEffect(
    () => () => {
      queueRef.current?.stop();
      queueRef.current = null;
    },
    [],
  );

  // batchFor: the batch new files join: the current one while it has
  // unfinished files, else a new one.
  const batchRef = useRef(0);
  const batchFor = () => {
    const open = itemsRef.current.some((it) => it.batch === batchRef.current && UNDER_WAY.includes(it.status));
    if (!open) batchRef.current += 1;
    return batchRef.current;
  };

  // tree: makes the folders of an item whose path is still to be made.
  const enqueue = (item: Item, resumeId: string | null, tree: FolderTree | null = null) => {
    queue().add({ id: item.id, file: item.file, resumeId, key: item.key, batch: item.batch, folderId: item.folderId, path: item.path, tree });
  };

  const retry = (item: Item, batch = batchFor(), tree: FolderTree | null = null) => {
    progress.set(item.id, 0);
    dispatch({ type: 'requeue', id: item.id, batch });
    enqueue({ ...item, batch }, null, item.path ? (tree ?? newTree()) : null);
  };

  const resume = (item: Item) => {
    const batch = batchFor();
    dispatch({ type: 'requeue', id: item.id, batch });
    enqueue({ ...item, batch }, item.uploadId);
  };

  // Unfinished uploads of earlier pages whose files this page does not hold.
  const [earlier, setEarlier] = useState<Earlier[]>([]);
  const [showFolded, setShowFolded] = useState(false);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);
  const listEarlier = useCallback(() => {
    if (userId === undefined) return;
    const live = new Set(itemsRef.current.filter((it) => UNFINISHED.includes(it.status)).flatMap((it) => [it.key, it.uploadId]));
    const list: Earlier[] = [
      ...loadPendingUploads(userId)
        .filter((e) => !live.has(e.upload_id) && !heldFile(userId, e.upload_id))
        .map((e) => ({ key: e.upload_id, filename: e.filename, size: e.size, uploadId: e.upload_id })),
      ...loadUnsentUploads(userId)
        .filter((e) => !live.has(e.id) && !heldFile(userId, e.id))
        .map((e) => ({ key: e.id, filename: e.filename, size: e.size, uploadId: null })),
    ];
    setEarlier(list);
    if (list.length === 0) return;
    // Not those another tab is sending right now.
    void claimedUploads(userId).then((claimed) => {
      if (mounted.current && claimed.size > 0) setEarlier(list.filter((e) => !claimed.has(e.key)));
    });
  }, [userId]);

  // On arrival: the uploads whose files this page still holds (the session
  // ended and the user logged in again, or came back from another page) go
  // on by themselves — multipart ones at once, the others once the config
  // is known (they are checked again, as at a pick); the others are listed.
  const early = useRef<{ file: File; checking: Item }[]>([]);
  useEffect(() => {
    if (userId === undefined) return;
    const back: Item[] = [];
    const resumed: Queued[] = [];
    const batch = (batchRef.current += 1);
    const pending = new Set<string>();
    for (const e of loadPendingUploads(userId)) {
      pending.add(e.upload_id);
      const file = heldFile(userId, e.upload_id);
      if (!file) continue;
      // The server's upload knows its folder; a fresh start (it expired) goes there too.
      const folderOf = e.folder_id ?? null;
      const item = newItem(nextId.current++, file, { uploadId: e.upload_id, multipart: true, batch, folderId: folderOf });
      back.push(item);
      resumed.push({ id: item.id, file, resumeId: e.upload_id, key: item.key, batch, folderId: folderOf });
    }
    // Every other file held: the stored entries (in their order), and the
    // files of a batch larger than storage keeps entries for.
    const unsent = new Map<string, File>();
    const folders = new Map<string, number | null>();
    const paths = new Map<string, string | null>();
    for (const e of loadUnsentUploads(userId)) {
      const file = heldFile(userId, e.id);
      if (!file) continue;
      unsent.set(e.id, file);
      folders.set(e.id, e.folder_id ?? heldFolder(userId, e.id));
      paths.set(e.id, e.path ?? heldPath(userId, e.id));
    }
    for (const [key, file] of heldFiles(userId)) {
      if (!pending.has(key) && !unsent.has(key)) unsent.set(key, file);
    }
    for (const [key, file] of unsent) {
      // Each goes into the folder it was picked in (or the folders of its
      // path below it, when they were not made yet).
      const folderOf = folders.has(key) ? (folders.get(key) ?? null) : heldFolder(userId, key);
      const pathOf = paths.has(key) ? (paths.get(key) ?? null) : heldPath(userId, key);
      const item = { ...newItem(nextId.current++, file, { status: 'checking', batch, folderId: folderOf, path: pathOf }), key };
      back.push(item);
      early.current.push({ file, checking: item });
    }
    if (early.current.length > 0) setEarlyAdded((n) => n + 1);
    if (back.length > 0) {
      dispatch({ type: 'add', items: back });
      itemsRef.current = [...back, ...itemsRef.current];
      notifyRef.current('info', back.length === 1 ? 'Resuming 1 unfinished upload' : `Resuming ${back.length} unfinished uploads`);
      queue().add(...resumed);
    }
    listEarlier();
    return onUnfinishedChange(userId, listEarlier);
  }, [userId, listEarlier]);

  // admit checks picked files (quota, size) and queues them, resuming what
  // can be resumed. checking: items added before the config was known.
  // folder: where files picked now go (a checking item knows its own); the
  // files of a dropped or chosen folder go into the folders of their paths
  // below it, made by one tree for the whole drop.
  const admit = useCallback(
    (picked: { file: File; checking: Item | null }[], folder: number | null) => {
      const tree = newTree();
      // Uploads some item is sending or ending: not to be resumed twice.
      const claimed = new Set(
        itemsRef.current.filter((it) => it.uploadId && it.status !== 'interrupted').map((it) => it.uploadId),
      );
      const batch = batchFor();
      const added: Item[] = [];
      const jobs: Queued[] = [];
      // Files queued: their entries are kept from now on (one write).
      const kept: { id: string; file: File; folderId: number | null; path: string | null }[] = [];
      const add = (file: File, p: Partial<Item>, checking: Item | null): Item => {
        const item = checking ?? newItem(nextId.current++, file, { path: folderPathOf(file), ...p, batch, folderId: folder });
        if (checking) {
          if (p.status === 'rejected') dispatch({ type: 'reject', id: checking.id, error: p.error ?? '' });
          else dispatch({ type: 'checked', id: checking.id, uploadId: p.uploadId ?? null });
        } else {
          added.push(item);
        }
        return { ...item, ...p };
      };
      // The unsent entries listed, read once for the whole drop: a file
      // picked again takes its entry's place.
      const listed = new Map<string, UnsentUpload>();
      for (const e of userId === undefined ? [] : loadUnsentUploads(userId)) {
        const k = fileKey(e.filename, e.size, e.last_modified);
        if (!listed.has(k)) listed.set(k, e);
      }
      const takeListed = (file: File) => {
        const k = fileKey(file.name, file.size, file.lastModified);
        const e = listed.get(k) ?? null;
        listed.delete(k);
        return e;
      };
      // Refusals: one toast each in a small batch, one for them all in a
      // large one.
      const refusals: string[] = [];
      // What the quota leaves, counted down as this drop's files are queued.
      let left = quotaLeft(usage.data);
      let relisted = false;
      for (const { file, checking } of picked) {
        if (left !== null && file.size > left) {
          const error = `File is ${formatBytes(file.size)}; your storage quota has ${formatBytes(left)} left.`;
          add(file, { status: 'rejected', error }, checking);
          if (checking) dropUnsent(checking.key);
          refusals.push(`${file.name} does not fit in your storage quota (${formatBytes(left)} left)`);
          continue;
        }
        if (left !== null) left -= file.size;
        if (tooLarge(file, config.data)) {
          const limit = formatBytes(config.data!.max_file_size_bytes);
          const error = `File is ${formatOver(file.size, config.data!.max_file_size_bytes)}.`;
          add(file, { status: 'rejected', error }, checking);
          if (checking) dropUnsent(checking.key);
          refusals.push(`${file.name} is too large (limit ${limit})`);
          continue;
        }
        // The same file, interrupted earlier on this page: resume that item.
        const stopped = itemsRef.current.find(
          (it) => it.status === 'interrupted' && it.uploadId && !claimed.has(it.uploadId) && sameFile(it.file, file),
        );
        if (stopped) {
          claimed.add(stopped.uploadId);
          if (checking) {
            dropUnsent(checking.key);
            dispatch({ type: 'remove', id: checking.id });
          }
          dispatch({ type: 'requeue', id: stopped.id, file, batch });
          jobs.push({ id: stopped.id, file, resumeId: stopped.uploadId, key: stopped.key, batch, folderId: stopped.folderId, path: null });
          continue;
        }
        // ... or left unfinished by an earlier page (a reload, a closed tab).
        const pending = userId !== undefined && usesMultipart(file, config.data) ? findPendingUpload(userId, file) : null;
        const resumeId = pending && !claimed.has(pending.upload_id) ? pending.upload_id : null;
        if (resumeId) claimed.add(resumeId);
        // A listed unsent upload picked again takes its place.
        const unsent = !resumeId ? takeListed(file) : null;
        if (pending || unsent) relisted = true;
        // A resumed upload stays in its own folder, wherever the file is picked again.
        const item = add(
          file,
          resumeId && pending ? { uploadId: resumeId, folderId: pending.folder_id ?? null, path: null } : { uploadId: resumeId },
          checking,
        );
        if (unsent && unsent.id !== item.key) {
          dropUnsent(unsent.id);
        }
        if (resumeId && checking) dropUnsent(checking.key);
        if (!resumeId && !checking) kept.push({ id: item.key, file, folderId: item.folderId, path: item.path });
        jobs.push({ id: item.id, file, resumeId, key: item.key, batch: item.batch, folderId: item.folderId, path: item.path, tree: item.path ? tree : null });
      }
      if (added.length > 0) {
        dispatch({ type: 'add', items: added });
        itemsRef.current = [...added.slice().reverse(), ...itemsRef.current];
      }
      if (userId !== undefined && kept.length > 0) saveUnsentUploads(userId, kept);
      if (refusals.length <= SMALL_BATCH) refusals.forEach((m) => notify('error', m));
      else notify('error', `${refusals.length} files were refused: too large, or more than your storage quota leaves`);
      queue().add(...jobs);
      if (relisted) listEarlier();
    },
    // batchFor and queue read refs only.
    [config.data, usage.data, notify, userId, dropUnsent, listEarlier, newTree],
  );

  // Files picked before GET /api/config answered wait as "checking" items
  // (their entries kept like any other), and are admitted when it does.
  // Whoever adds to them bumps earlyAdded: a drop is read asynchronously
  // (a folder's entries), so its onDrop may be one of a render before the
  // config was known and run after this effect has drained the line.
  const configKnown = config.data !== undefined || config.isError;
  const [earlyAdded, setEarlyAdded] = useState(0);
  useEffect(() => {
    if (!configKnown || early.current.length === 0) return;
    const waiting = early.current.splice(0);
    // Each checking item goes where it was picked (admit reads its folder).
    admit(waiting, null);
  }, [configKnown, admit, earlyAdded]);

  // A file picked is a file queued for the folder open now.
  const onDrop = useCallback(
    (accepted: File[]) => {
      if (accepted.length === 0) return;
      if (!configKnown) {
        const batch = batchFor();
        const items = accepted.map((file) => newItem(nextId.current++, file, { status: 'checking', batch, folderId, path: folderPathOf(file) }));
        dispatch({ type: 'add', items });
        itemsRef.current = [...items.slice().reverse(), ...itemsRef.current];
        if (userId !== undefined) saveUnsentUploads(userId, items.map((it) => ({ id: it.key, file: it.file, folderId, path: it.path })));
        items.forEach((item) => early.current.push({ file: item.file, checking: item }));
        setEarlyAdded((n) => n + 1);
        return;
      }
      admit(
        accepted.map((file) => ({ file, checking: null })),
        folderId,
      );
    },
    [admit, configKnown, userId, folderId],
  );

  const cancel = (item: Item) => {
    queueRef.current?.remove(item.id);
    early.current = early.current.filter((q) => q.checking.id !== item.id);
    const running = controllers.current.get(item.id);
    if (running) {
      // The upload's own catch ends the server's upload, whose id it knows.
      running.abort(USER_CANCEL);
      controllers.current.delete(item.id);
    } else {
      if (item.uploadId) endUpload(item.uploadId); // waiting to resume
      dropUnsent(item.key);
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
    dropUnsent(item.key);
    progress.delete(id);
    dispatch({ type: 'remove', id });
    notify('info', `Discarded the upload of ${file.name}`);
  };

  // Dismissing a finished item forgets a failed one's entry too.
  const dismiss = (item: Item) => {
    dropUnsent(item.key);
    progress.delete(item.id);
    dispatch({ type: 'remove', id: item.id });
  };
  const clearFinished = () => {
    itemsRef.current
      .filter((it) => !UNFINISHED.includes(it.status))
      .forEach((it) => {
        dropUnsent(it.key);
        progress.delete(it.id);
      });
    dispatch({ type: 'clear-finished' });
  };

  // Forget the earlier uploads: the server's multipart uploads end too.
  const forgetEarlier = () => {
    for (const e of earlier) {
      if (e.uploadId) endUpload(e.uploadId);
      else dropUnsent(e.key);
    }
    setEarlier([]);
  };

  const { getRootProps, getInputProps, isDragActive, open } = useDropzone({
    onDrop,
    multiple: true,
    noClick: false,
    noKeyboard: true,
    useFsAccessApi: false,
  });

  const finished = items.some((i) => !UNFINISHED.includes(i.status));
  const batch = items.filter((it) => it.batch === batchRef.current);
  // Uploaded files of earlier batches fold into one line (Show opens it):
  // a morning of uploads does not push the file list down the page.
  const folded = items.filter((it) => it.batch !== batchRef.current && it.status === 'done');
  const shown = visibleRows(showFolded ? items : items.filter((it) => !folded.includes(it)));

  // The end of a batch of several files: one toast for them all.
  const announced = useRef(0);
  useEffect(() => {
    const current = items.filter((it) => it.batch === batchRef.current);
    if (current.length < 2 || announced.current === batchRef.current) return;
    if (current.some((it) => UNDER_WAY.includes(it.status))) return;
    announced.current = batchRef.current;
    const s = summarizeBatch(current.map((it) => ({ state: batchState(it.status), size: it.file.size, loaded: 0 })));
    if (s.failed === 0) notify('success', `Uploaded ${s.done} files`);
    else notify('error', `Uploaded ${s.done} of ${s.files} files; ${s.failed} failed`);
  }, [items, notify]);

  const retryFailed = () => {
    const failed = itemsRef.current.filter((it) => it.status === 'error' && it.retryable);
    const batch = batchFor();
    // One tree for them all: a folder still to be made is asked for once.
    const tree = newTree();
    failed.forEach((it) => retry(it, batch, tree));
  };

  // Choose a folder: the folder and its subfolders are made in the folder
  // open (or the ones there of the same names used), and each file goes
  // into its own (folderPathOf reads webkitRelativePath).
  const folderInput = useRef<HTMLInputElement | null>(null);
  const setFolderInput = useCallback((el: HTMLInputElement | null) => {
    folderInput.current = el;
    el?.setAttribute('webkitdirectory', '');
  }, []);

  return (
    <section aria-labelledby="upload-heading" className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <h2 id="upload-heading" className="text-lg font-semibold">
        Upload files
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        Files go into <span className="font-medium break-all text-slate-800">{folderName ?? ROOT_NAME}</span>
      </p>
      <div
        {...getRootProps({
          'aria-label': 'Drop files here to upload',
          className: `mt-3 flex cursor-pointer flex-col items-center justify-center gap-2 rounded-lg border-2 border-dashed p-6 text-center transition-colors ${
            isDragActive ? 'border-indigo-500 bg-indigo-50' : 'border-slate-300 hover:border-indigo-400'
          }`,
        })}
        data-testid="dropzone"
      >
        {/* Out of the accessibility tree (Chromium announced it as a second
            button): "Choose files" opens it. Not display:none, which some
            browsers refuse to open by script. */}
        <input {...getInputProps({ 'aria-label': 'Choose files to upload', 'aria-hidden': true })} />
        <p className="text-sm text-slate-600">{isDragActive ? 'Drop to upload' : 'Drag and drop files here, or'}</p>
        <div className="flex flex-wrap justify-center gap-2">
          <Button
            variant="secondary"
            onClick={(e) => {
              e.stopPropagation();
              open();
            }}
          >
            Choose files
          </Button>
          <Button
            variant="ghost"
            onClick={(e) => {
              e.stopPropagation();
              folderInput.current?.click();
            }}
          >
            Choose a folder
          </Button>
        </div>
        <input
          ref={setFolderInput}
          type="file"
          multiple
          hidden
          aria-label="Choose a folder to upload"
          onClick={(e) => e.stopPropagation()}
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = '';
            onDrop(files);
          }}
        />
        <p className="text-xs text-slate-500">
          {config.data
            ? `Up to ${formatBytes(config.data.max_file_size_bytes)} per file`
            : config.isError
              ? 'Could not load upload limits; the server will check sizes.'
              : 'Loading upload limits… (files picked now wait for them)'}
        </p>
      </div>

      {earlier.length > 0 && (
        <div role="region" aria-labelledby="earlier-heading" className="mt-4 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm">
          <h3 id="earlier-heading" className="font-medium text-amber-900">
            {earlier.length === 1 ? '1 upload did not finish' : `${earlier.length} uploads did not finish`}
          </h3>
          <p className="mt-1 text-amber-900">
            The page was closed or reloaded before they were sent. Choose the same files again to finish them; large files go on from
            where they stopped.
          </p>
          <ul className="mt-2 list-inside list-disc text-amber-950" aria-label="Unfinished uploads">
            {earlier.map((e) => (
              <li key={e.key}>
                {e.filename} <span className="text-amber-800">({formatBytes(e.size)})</span>
              </li>
            ))}
          </ul>
          <div className="mt-3 flex flex-wrap gap-2">
            <Button size="sm" onClick={open}>
              Choose files to resume
            </Button>
            <Button variant="ghost" size="sm" onClick={forgetEarlier}>
              Forget them
            </Button>
          </div>
        </div>
      )}

      {items.length > 0 && (
        <div className="mt-4">
          <div className="flex items-center justify-between">
            <h3 className="text-sm font-medium text-slate-700">Uploads</h3>
            {finished && (
              <Button variant="ghost" size="sm" onClick={clearFinished}>
                Clear finished
              </Button>
            )}
          </div>
          {batch.length > 1 && <BatchProgress items={batch} store={progress} onRetryFailed={retryFailed} />}
          {folded.length > 0 && (
            <p className="mt-2 flex items-center gap-2 text-xs text-slate-600">
              {`${folded.length} earlier ${folded.length === 1 ? 'upload' : 'uploads'} done`}
              <Button variant="ghost" size="sm" aria-expanded={showFolded} onClick={() => setShowFolded((v) => !v)}>
                {showFolded ? 'Hide' : 'Show'}
              </Button>
            </p>
          )}
          <ul className="mt-2 space-y-2" aria-label="Uploads">
            {shown.map((it) => (
              <UploadRow
                key={it.id}
                item={it}
                store={progress}
                onCancel={() => cancel(it)}
                onRetry={() => retry(it)}
                onResume={() => resume(it)}
                onDiscard={() => void discard(it)}
                onRemove={() => dismiss(it)}
              />
            ))}
          </ul>
          {shown.length < items.length && (
            <p className="mt-2 text-xs text-slate-500">
              {`Showing ${shown.length} of ${items.length} uploads: those that need you or are under way first, then the newest.`}
            </p>
          )}
        </div>
      )}
    </section>
  );
}

// visibleRows: every row of a short list; of a long one, MAX_ROWS: those
// that need the user (failed, interrupted) or are under way first, then the
// newest, in the list's order.
function visibleRows(items: Item[]): Item[] {
  if (items.length <= MAX_ROWS) return items;
  const first = (it: Item) => ['error', 'interrupted', 'discarding', 'uploading', 'rejected'].includes(it.status);
  const picked = new Set(items.filter(first).slice(0, MAX_ROWS));
  for (const it of items) {
    if (picked.size >= MAX_ROWS) break;
    picked.add(it);
  }
  return items.filter((it) => picked.has(it));
}

function batchState(status: Status): BatchState {
  switch (status) {
    case 'checking':
    case 'queued':
      return 'waiting';
    case 'uploading':
      return 'active';
    case 'done':
      return 'done';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'failed';
  }
}

// BatchProgress: one summary for the files added together: files and bytes
// done, what failed (with one Retry for them all). Only it and the rows
// whose bytes changed re-render on progress, once per frame at most.
function BatchProgress({ items, store, onRetryFailed }: { items: Item[]; store: ProgressStore; onRetryFailed: () => void }) {
  const live = items.filter((it) => it.status === 'uploading' || it.status === 'queued').map((it) => it.id);
  // Subscribes to the bytes of the uploads under way.
  useLoadedSum(store, live);
  const s = summarizeBatch(items.map((it) => ({ state: batchState(it.status), size: it.file.size, loaded: store.get(it.id) })));
  const retryable = items.filter((it) => it.status === 'error' && it.retryable).length;
  const misplaced = items.filter((it) => it.misplaced !== null).length;
  const complete = s.files > 0 && s.done === s.files;
  return (
    <div role="region" aria-label="Batch progress" className="mt-2 rounded-md border border-slate-200 bg-slate-50 p-3 text-sm">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="font-medium">{complete ? `All ${s.files} files uploaded` : `${s.done} of ${s.files} files uploaded`}</p>
        <p className="text-xs text-slate-600">{`${formatBytes(s.bytesDone)} of ${formatBytes(s.bytes)}`}</p>
      </div>
      <div className="mt-2">
        <ProgressBar value={s.bytes > 0 ? (s.bytesDone / s.bytes) * 100 : complete ? 100 : 0} label="Progress of all uploads" />
      </div>
      <p className="mt-1 text-xs text-slate-600">
        {[
          s.active > 0 && `${s.active} uploading`,
          s.waiting > 0 && `${s.waiting} waiting`,
          s.failed > 0 && `${s.failed} failed`,
          s.cancelled > 0 && `${s.cancelled} cancelled`,
        ]
          .filter(Boolean)
          .join(' · ')}
      </p>
      {misplaced > 0 && (
        <p className="mt-1 text-xs text-amber-800">
          {`${misplaced === 1 ? '1 file goes' : `${misplaced} files go`} into the nearest folder that exists: ${items.find((it) => it.misplaced !== null)?.misplaced}`}
        </p>
      )}
      {retryable > 0 && (
        <div className="mt-2">
          <Button variant="secondary" size="sm" onClick={onRetryFailed}>
            {`Retry ${retryable} failed`}
          </Button>
        </div>
      )}
    </div>
  );
}

function UploadRow({
  item,
  store,
  onCancel,
  onRetry,
  onResume,
  onDiscard,
  onRemove,
}: {
  item: Item;
  store: ProgressStore;
  onCancel: () => void;
  onRetry: () => void;
  onResume: () => void;
  onDiscard: () => void;
  onRemove: () => void;
}) {
  const { file, status } = item;
  const loaded = useLoaded(store, item.id);
  const pct = file.size > 0 ? (loaded / file.size) * 100 : status === 'done' ? 100 : 0;
  const statusText: Record<Status, string> = {
    checking: 'Waiting for the upload limits',
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
          {(status === 'uploading' || status === 'queued' || status === 'checking') && (
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
