/**
 * The domain's answer to a SIP request, independent of the SIP stack that sends it. The
 * adapter copies the dialog headers, adds the To tag and its Contact, and calls `afterSent`
 * once the response is on the wire (RFC 6665 4.2.1: the NOTIFY follows the 2xx).
 */
export interface SipReply {
  status: number;
  reason: string;
  headers?: Array<[name: string, value: string]>;
  /** Our To tag for a dialog-creating 2xx. */
  toTag?: string;
  afterSent?: () => void;
}

export function reply(status: number, reason: string, headers?: Array<[string, string]>): SipReply {
  return headers ? { status, reason, headers } : { status, reason };
}
