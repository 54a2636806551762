// Unfinished multipart uploads, remembered in localStorage per user so that a
// reload (or a crash, or a closed tab) does not lose the parts already sent:
// picking the same file again (same name, size and lastModified) resumes the
// server's session instead of starting over. The server ends a session at
// its expires_at; entries past that are ignored and pruned.
//
// Everything here is best effort: storage may be full, disabled or hold
// anything at all, and none of that may break the page.

export type PendingUpload = {
  upload_id: string;
  filename: string;
  size: number;
  last_modified: number;
  part_size: number;
  expires_at: string; // RFC 3339, of the server's session
};

// More than this many unfinished uploads is not a real situation; the
// oldest go first so the key cannot grow without bound.
const MAX_ENTRIES = 50;

function storageKey(userId: number): string {
  return `hybrid-storage.pending-uploads.${userId}`;
}

function isEntry(v: unknown): v is PendingUpload {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.upload_id === 'string' &&
    e.upload_id !== '' &&
    typeof e.filename === 'string' &&
    typeof e.size === 'number' &&
    Number.isFinite(e.size) &&
    e.size > 0 &&
    typeof e.last_modified === 'number' &&
    Number.isFinite(e.last_modified) &&
    typeof e.part_size === 'number' &&
    Number.isFinite(e.part_size) &&
    e.part_size > 0 &&
    typeof e.expires_at === 'string' &&
    !Number.isNaN(Date.parse(e.expires_at))
  );
}

function live(e: PendingUpload, now: number): boolean {
  return Date.parse(e.expires_at) > now;
}

function read(userId: number): PendingUpload[] {
  try {
    const raw = window.localStorage.getItem(storageKey(userId));
    if (!raw) return [];
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter(isEntry) : [];
  } catch {
    return [];
  }
}

function write(userId: number, entries: PendingUpload[]): void {
  try {
    if (entries.length === 0) window.localStorage.removeItem(storageKey(userId));
    else window.localStorage.setItem(storageKey(userId), JSON.stringify(entries.slice(-MAX_ENTRIES)));
  } catch {
    // full or disabled storage: the upload still works, it just will not
    // survive a reload
  }
}

// loadPendingUploads returns the user's entries that are well formed and not
// expired.
export function loadPendingUploads(userId: number, now: number = Date.now()): PendingUpload[] {
  return read(userId).filter((e) => live(e, now));
}

// findPendingUpload returns the unexpired entry for this very file, if any:
// same name, size and modification time.
export function findPendingUpload(userId: number, file: File, now: number = Date.now()): PendingUpload | null {
  const matches = loadPendingUploads(userId, now).filter(
    (e) => e.filename === file.name && e.size === file.size && e.last_modified === file.lastModified,
  );
  // The newest session is the likeliest to still hold parts.
  return matches.at(-1) ?? null;
}

// savePendingUpload records (or refreshes) an entry; expired and corrupt
// entries are dropped on the way.
export function savePendingUpload(userId: number, entry: PendingUpload, now: number = Date.now()): void {
  const rest = loadPendingUploads(userId, now).filter((e) => e.upload_id !== entry.upload_id);
  write(userId, [...rest, entry]);
}

export function removePendingUpload(userId: number, uploadId: string, now: number = Date.now()): void {
  write(
    userId,
    read(userId).filter((e) => e.upload_id !== uploadId && live(e, now)),
  );
}
