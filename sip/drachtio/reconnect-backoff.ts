/**
 * When to try the drachtio server again after a failed or lost connection: exponential
 * backoff from `initialMs`, doubling, capped at `maxMs`. No jitter: one application connects
 * to its drachtio server, so there is no herd to spread.
 */
export interface ReconnectBackoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_RECONNECT_BACKOFF: ReconnectBackoff = { initialMs: 250, maxMs: 10_000 };

/** The delay before attempt `attempt` (1 = the first retry after a failure). */
export function reconnectDelay(backoff: ReconnectBackoff, attempt: number): number {
  const exponent = Math.max(0, attempt - 1);
  // 2^exponent overflows to Infinity long after the cap; min() keeps it finite.
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(exponent, 30));
}
