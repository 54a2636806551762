import { useEffect, useRef, useState } from 'react';

import { useToast } from '@/components/ui/toast';
import { useRenameFile } from '@/features/files/api/rename-file';
import type { FileObject } from '@/features/files/types';
import { toApiError } from '@/lib/api-error';

// FileName is the file's name, or while it is being renamed a field
// holding the new name: Enter or leaving the field saves, Escape cancels.
// A refused name stays in the field with the server's reason under it.
export function FileName({ file, renaming, onRenameDone }: { file: FileObject; renaming: boolean; onRenameDone: () => void }) {
  if (!renaming) return <>{file.original_filename}</>;
  return <RenameField file={file} onDone={onRenameDone} />;
}

function RenameField({ file, onDone }: { file: FileObject; onDone: () => void }) {
  const [name, setName] = useState(file.original_filename);
  const [error, setError] = useState<string | null>(null);
  const rename = useRenameFile();
  const { notify } = useToast();
  const input = useRef<HTMLInputElement>(null);
  const ended = useRef(false);

  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.focus();
    // The name without its extension is selected, ready to be typed over.
    const dot = el.value.lastIndexOf('.');
    el.setSelectionRange(0, dot > 0 ? dot : el.value.length);
  }, []);

  const end = () => {
    ended.current = true;
    onDone();
  };
  const save = () => {
    if (ended.current || rename.isPending) return;
    if (name === file.original_filename) return end();
    if (name.trim() === '') {
      setError('A name cannot be empty.');
      return;
    }
    rename.mutate(
      { id: file.id, filename: name },
      {
        onSuccess: (f) => {
          notify('success', `Renamed ${file.original_filename} to ${f.original_filename}`);
          end();
        },
        onError: (err) => {
          setError(toApiError(err).message);
          input.current?.focus();
        },
      },
    );
  };

  const errorId = `rename-error-${file.id}`;
  return (
    <form
      className="min-w-0"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <label htmlFor={`rename-${file.id}`} className="sr-only">
        New name for {file.original_filename}
      </label>
      <input
        ref={input}
        id={`rename-${file.id}`}
        value={name}
        readOnly={rename.isPending}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
        onChange={(e) => {
          setName(e.target.value);
          setError(null);
        }}
        onKeyDown={(e) => {
          if (e.key !== 'Escape') return;
          e.preventDefault();
          e.stopPropagation();
          end();
        }}
        // Leaving the field saves, unless the name there was just refused:
        // then it stays to be fixed (or Escape).
        onBlur={() => {
          if (!error) save();
        }}
        className="w-full rounded-md border border-slate-300 px-2 py-1 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 aria-[invalid]:border-red-600"
      />
      {error && (
        <p id={errorId} role="alert" className="mt-1 text-xs font-normal text-red-700">
          {error}
        </p>
      )}
    </form>
  );
}
