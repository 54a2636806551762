import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, render, screen } from '@testing-library/react';

import { ToastProvider, useToast } from '@/components/ui/toast';

function Notifier() {
  const { notify } = useToast();
  return (
    <button type="button" onClick={() => notify('success', 'Saved')}>
      Save
    </button>
  );
}

describe('ToastProvider', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('dismisses a toast after its time, and leaves no timer behind when it goes', () => {
    vi.useFakeTimers();
    const { unmount } = render(
      <ToastProvider durationMs={1000}>
        <Notifier />
      </ToastProvider>,
    );
    act(() => screen.getByRole('button', { name: 'Save' }).click());
    expect(screen.getByText('Saved')).toBeInTheDocument();
    act(() => vi.advanceTimersByTime(1000));
    expect(screen.queryByText('Saved')).not.toBeInTheDocument();

    act(() => screen.getByRole('button', { name: 'Save' }).click());
    expect(vi.getTimerCount()).toBe(1);
    unmount();
    // A timer left would set the state of an unmounted tree (in tests:
    // after the environment is gone, "window is not defined").
    expect(vi.getTimerCount()).toBe(0);
  });
});
