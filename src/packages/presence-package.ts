import type { EventPackage, RenderedBody } from '../event-package.js';
import type { PresentityView } from '../presentity-view.js';
import { xmlText } from '../xml-text.js';

const CONTENT_TYPE = 'application/pidf+xml';

/** The lamp a dialog list amounts to, in PIDF words (kazoo-presence.md). */
function summary(view: PresentityView): { note: string; activity?: string } {
  if (view.dialogs.some((d) => d.state === 'confirmed' || d.direction === 'initiator')) {
    return { note: 'On the Phone', activity: 'on-the-phone' };
  }
  if (view.dialogs.length > 0) return { note: 'Busy', activity: 'busy' };
  return { note: 'Available' };
}

/**
 * RFC 3856 presence package with RFC 3863 PIDF bodies and RFC 4480 RPID activities, derived
 * from the presentity's calls. A PIDF document PUBLISHed for an idle presentity is served
 * as it came (RFC 3903); a live call outranks it.
 */
export const presencePackage: EventPackage = {
  name: 'presence',
  contentType: CONTENT_TYPE,
  expires: { default: 3600, min: 60, max: 7200 },
  stateKinds: ['dialog', 'pidf'],
  render(view: PresentityView): RenderedBody {
    if (view.pidf !== undefined && view.dialogs.length === 0) {
      const text = view.pidf;
      return { contentType: CONTENT_TYPE, text: () => text };
    }
    const { note, activity } = summary(view);
    const entity = `sip:${xmlText(view.presentity)}`;
    const activities = activity ? `<rpid:activities><rpid:${activity}/></rpid:activities>` : '';
    const text =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${entity}">` +
      `<tuple id="t-${xmlText(view.presentity.replace(/[^A-Za-z0-9]/g, '_'))}"><status><basic>open</basic></status><contact>${entity}</contact><note>${note}</note></tuple>` +
      `<dm:person id="p1">${activities}<dm:note>${note}</dm:note></dm:person>` +
      '</presence>\n';
    return { contentType: CONTENT_TYPE, text: () => text };
  },
};
