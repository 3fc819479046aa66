import { describe, expect, it } from 'vitest';
import { parseEvent, parseEventPackageId } from '../../../sip/stack/event.js';

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    return { error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

describe('parseEventPackageId', () => {
  it('gives the package and id parseEvent() gives, and the same errors', () => {
    const values = [
      'dialog',
      ' presence.winfo ',
      'dialog;id=5',
      'dialog ; ID = "a b" ; x',
      'dialog;id',
      'dialog;',
      'presence;id=123456789012345',
      '',
      'dia log',
      'dialog;id="x',
      'dialog;=1',
      'dia log;id="x',
      'é;id=1',
    ];
    for (const value of values) {
      const full = outcome(() => parseEvent(value));
      const want =
        'ok' in (full as object)
          ? {
              ok: (({ package: pkg, id }: { package: string; id?: string }) => (id !== undefined ? { package: pkg, id } : { package: pkg }))(
                (full as { ok: { package: string; id?: string } }).ok,
              ),
            }
          : full;
      expect(outcome(() => parseEventPackageId(value)), value).toStrictEqual(want);
    }
    expect(parseEventPackageId('dialog;id=7')).toStrictEqual({ package: 'dialog', id: '7' });
    // The package is checked before the params.
    expect(() => parseEvent('dia log;id="x')).toThrow('Malformed Event header');
  });
});
