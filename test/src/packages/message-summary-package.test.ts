import { describe, expect, it } from 'vitest';
import type { MessageSummary } from '../../../src/message-summary.js';
import { messageSummaryPackage } from '../../../src/packages/message-summary-package.js';

function body(mwi?: MessageSummary): string {
  return messageSummaryPackage.render(mwi ? { presentity: '1001@acme.example.com', revision: 1, dialogs: [], mwi } : { presentity: '1001@acme.example.com', revision: 1, dialogs: [] }).text(0);
}

describe('message-summary package', () => {
  it('declares the RFC 3842 body type and listens to mailbox changes', () => {
    expect(messageSummaryPackage.name).toBe('message-summary');
    expect(messageSummaryPackage.contentType).toBe('application/simple-message-summary');
    expect(messageSummaryPackage.stateKinds).toEqual(['mwi']);
  });

  it('says yes, names the mailbox and counts new/old (urgent new/urgent old) voice messages', () => {
    expect(body({ account: 'sip:*97@acme.example.com', newMessages: 2, oldMessages: 8, urgentNew: 1, urgentOld: 3 })).toBe(
      'Messages-Waiting: yes\r\nMessage-Account: sip:*97@acme.example.com\r\nVoice-Message: 2/8 (1/3)\r\n',
    );
  });

  it('says no when only old messages are left', () => {
    expect(body({ newMessages: 0, oldMessages: 4, urgentNew: 0, urgentOld: 0 })).toMatch(/^Messages-Waiting: no\r\n/);
  });

  it('names the presentity as the account when the mailbox has none', () => {
    expect(body({ newMessages: 1, oldMessages: 0, urgentNew: 0, urgentOld: 0 })).toContain('Message-Account: sip:1001@acme.example.com\r\n');
  });

  it('reports an empty mailbox when nothing is known', () => {
    expect(body()).toBe('Messages-Waiting: no\r\nMessage-Account: sip:1001@acme.example.com\r\nVoice-Message: 0/0 (0/0)\r\n');
  });
});
