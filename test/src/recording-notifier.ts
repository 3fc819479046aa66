import type { Notifier, NotifyOutcome, NotifyRequest } from '../../src/ports/notifier.js';

/** What the fake watcher does with one NOTIFY: answer at once, or hold it until the test answers. */
export type ScriptedOutcome = NotifyOutcome | 'hold';

/**
 * A Notifier that records every NOTIFY and answers as scripted: queued outcomes first
 * (`script`), then `defaultOutcome` (200 OK). Held NOTIFYs wait for `answer()`, oldest first,
 * so tests can check what happens while one is in flight.
 */
export class RecordingNotifier implements Notifier {
  readonly requests: NotifyRequest[] = [];
  defaultOutcome: ScriptedOutcome = { kind: 'response', status: 200 };
  private readonly script: ScriptedOutcome[] = [];
  private readonly held: Array<(outcome: NotifyOutcome) => void> = [];

  constructor(readonly journal: string[] = []) {}

  notify(request: NotifyRequest, done: (outcome: NotifyOutcome) => void): void {
    this.requests.push(request);
    this.journal.push(`notify cseq=${request.dialog.localCseq}`);
    const outcome = this.script.shift() ?? this.defaultOutcome;
    // Answers come a microtask later, as from a promise: never inside the scheduler's send.
    if (outcome === 'hold') this.held.push((o) => queueMicrotask(() => done(o)));
    else queueMicrotask(() => done(outcome));
  }

  /** Scripts the outcomes of the next NOTIFYs, in order. */
  willAnswer(...outcomes: ScriptedOutcome[]): this {
    this.script.push(...outcomes);
    return this;
  }

  /** Answers the oldest held NOTIFY. */
  answer(outcome: NotifyOutcome = { kind: 'response', status: 200 }): void {
    const resolve = this.held.shift();
    if (!resolve) throw new Error('no NOTIFY is waiting for an answer');
    resolve(outcome);
  }

  get heldCount(): number {
    return this.held.length;
  }

  get last(): NotifyRequest | undefined {
    return this.requests[this.requests.length - 1];
  }
}

export const ok: NotifyOutcome = { kind: 'response', status: 200 };
export function status(code: number): NotifyOutcome {
  return { kind: 'response', status: code };
}
export const noAnswer: NotifyOutcome = { kind: 'timeout' };
export const connectionClosed: NotifyOutcome = { kind: 'transport-error', reason: 'connection closed' };
