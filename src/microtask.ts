const RESOLVED = Promise.resolve();

/**
 * Runs `fn` at the next microtask checkpoint, as queueMicrotask() would, as the reaction of an
 * already resolved promise: Node wraps every queueMicrotask() callback in an AsyncResource (an
 * object, an async id, a bound function, hooks around the call), and the hot paths queue one
 * per task. A throw ends the process either way (an unhandled rejection, here).
 */
export function microtask(fn: () => void): void {
  void RESOLVED.then(fn);
}
