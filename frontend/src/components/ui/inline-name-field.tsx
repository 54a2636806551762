import { useEffect, useRef, useState } from 'react';

import { toApiError } from '@/lib/api-error';

type InlineNameFieldProps = {
  id: string;
  // The field's accessible name ("New name for Projects").
  label: string;
  initial?: string;
  placeholder?: string;
  // Saves the name; a rejection keeps the field open with the reason.
  onSave: (name: string) => Promise<unknown>;
  // The field is done: saved, or cancelled (Escape, an unchanged name).
  onDone: (saved: boolean) => void;
  // What to say of a refusal (default: the server's message).
  describeError?: (err: unknown, name: string) => string;
  className?: string;
  // On focus, select the name without its extension (a file's "report" of
  // "report.pdf") rather than the whole name.
  selectStem?: boolean;
};

// InlineNameField is a name typed in place (a file's or folder's new name, a new
// folder): Enter or leaving the field saves, Escape cancels. A refused name
// stays in the field with the reason next to it, until fixed or Escape.
// Leaving an empty new name cancels it.
export function InlineNameField({
  id,
  label,
  initial = '',
  placeholder,
  onSave,
  onDone,
  describeError,
  className = '',
  selectStem = false,
}: InlineNameFieldProps) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const ended = useRef(false);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    const el = input.current;
    if (el) {
      el.focus();
      const dot = selectStem ? el.value.lastIndexOf('.') : -1;
      el.setSelectionRange(0, dot > 0 ? dot : el.value.length);
    }
    return () => {
      mounted.current = false;
    };
  }, []);

  const end = (saved: boolean) => {
    ended.current = true;
    onDone(saved);
  };
  const save = (fromBlur: boolean) => {
    if (ended.current || pending) return;
    if (initial !== '' && name === initial) return end(false);
    if (name.trim() === '') {
      if (fromBlur && initial === '') return end(false);
      setError('A name cannot be empty.');
      return;
    }
    setPending(true);
    onSave(name).then(
      () => {
        if (mounted.current) setPending(false);
        end(true);
      },
      (err: unknown) => {
        if (!mounted.current) return;
        setPending(false);
        setError(describeError ? describeError(err, name) : toApiError(err).message);
        input.current?.focus();
      },
    );
  };

  const errorId = `${id}-error`;
  return (
    <form
      className={`min-w-0 ${className}`}
      onSubmit={(e) => {
        e.preventDefault();
        save(false);
      }}
    >
      <label htmlFor={id} className="sr-only">
        {label}
      </label>
      <input
        ref={input}
        id={id}
        value={name}
        placeholder={placeholder}
        readOnly={pending}
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
          end(false);
        }}
        // Leaving the field saves, unless the name there was just refused:
        // then it stays to be fixed (or Escape).
        onBlur={() => {
          if (!error) save(true);
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
