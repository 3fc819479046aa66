import type { EventPackage, RenderedBody } from '../event-package.js';
import type { PresentityView } from '../presentity-view.js';

const CONTENT_TYPE = 'application/simple-message-summary';

/** RFC 3842 message waiting indication: the mailbox counts of the presentity. */
export const messageSummaryPackage: EventPackage = {
  name: 'message-summary',
  contentType: CONTENT_TYPE,
  expires: { default: 3600, min: 60, max: 7200 },
  stateKinds: ['mwi'],
  render(view: PresentityView): RenderedBody {
    const m = view.mwi ?? { newMessages: 0, oldMessages: 0, urgentNew: 0, urgentOld: 0 };
    // RFC 3842 5.2: Messages-Waiting, then the account, then per-class counts new/old (urgent).
    const text =
      `Messages-Waiting: ${m.newMessages > 0 ? 'yes' : 'no'}\r\n` +
      `Message-Account: ${m.account ?? `sip:${view.presentity}`}\r\n` +
      `Voice-Message: ${m.newMessages}/${m.oldMessages} (${m.urgentNew}/${m.urgentOld})\r\n`;
    return { contentType: CONTENT_TYPE, text: () => text };
  },
};
