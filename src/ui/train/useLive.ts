import { useEffect, useState } from 'react';
import { liveRun, type LiveRun } from './live.ts';

/**
 * A snapshot of the live run, refreshed at most every `intervalMs` (not once per step): the
 * component re-renders a few times a second however fast the steps come.
 */
export function useLiveSnapshot<T>(select: (s: LiveRun) => T, intervalMs = 250): T {
  const [value, setValue] = useState(() => select(liveRun.getState()));
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let seen = liveRun.getState().version;
    const unsubscribe = liveRun.subscribe((s) => {
      if (s.version === seen || timer) return;
      timer = setTimeout(() => {
        timer = null;
        const now = liveRun.getState();
        seen = now.version;
        setValue(select(now));
      }, intervalMs);
    });
    setValue(select(liveRun.getState()));
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [intervalMs]); // the selector is fixed per component: subscribing once is enough
  return value;
}
