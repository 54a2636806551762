import { useEffect, useId, useRef, type ReactNode, type RefObject } from 'react';

type DialogProps = {
  title: string;
  onClose: () => void;
  children: ReactNode;
  // What gets focus on open (default: the first control).
  initialFocus?: RefObject<HTMLElement | null>;
  // The id of what describes the dialog (aria-describedby), if anything.
  describedBy?: string;
  // The panel's width (default max-w-md).
  widthClassName?: string;
  // How a long title wraps (default: anywhere, for a file's name).
  titleClassName?: string;
};

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

// Dialog is a modal shown while it is rendered: focus moves in on open, Tab
// stays inside, Escape closes, and focus returns to what opened it.
export function Dialog({
  title,
  onClose,
  children,
  initialFocus,
  describedBy,
  widthClassName = 'max-w-md',
  titleClassName = 'break-all',
}: DialogProps) {
  const titleId = useId();
  const panelRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const first = initialFocus?.current ?? panelRef.current?.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? panelRef.current)?.focus();
    return () => opener?.focus?.();
    // On open only.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || !panelRef.current) return;
    const focusable = Array.from(panelRef.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    if (focusable.length === 0) return;
    // Focus may be on no control (the panel, a heading focused by script):
    // Shift+Tab from there stays inside too.
    const at = focusable.indexOf(document.activeElement as HTMLElement);
    if (e.shiftKey && at <= 0) {
      e.preventDefault();
      focusable[focusable.length - 1].focus();
    } else if (!e.shiftKey && at === focusable.length - 1) {
      e.preventDefault();
      focusable[0].focus();
    }
  };

  return (
    <div className="fixed inset-0 z-50 flex items-center justify-center overflow-y-auto bg-slate-900/50 p-4" onKeyDown={onKeyDown}>
      <div
        ref={panelRef}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={describedBy}
        tabIndex={-1}
        className={`w-full ${widthClassName} rounded-lg bg-white p-6 shadow-xl focus:outline-none`}
      >
        <h2 id={titleId} className={`text-lg font-semibold ${titleClassName}`}>
          {title}
        </h2>
        {children}
      </div>
    </div>
  );
}
