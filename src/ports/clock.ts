/** Opaque handle of a pending timer. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

/** Time as the domain sees it; tests may substitute their own. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The wall clock, on Node's timers (unref'd: pending expiries never keep the process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const t = setTimeout(callback, Math.max(0, Math.min(delayMs, 2_147_483_647)));
    t.unref?.();
    return t;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
