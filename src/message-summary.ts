/** RFC 3842 message counts of one mailbox. */
export interface MessageSummary {
  /** `sip:` URI of the mailbox (Message-Account). */
  account?: string;
  newMessages: number;
  oldMessages: number;
  urgentNew: number;
  urgentOld: number;
}
