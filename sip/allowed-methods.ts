/** The methods this server answers; anything else gets 405 with this list (RFC 3261 21.4.6). */
export const ALLOWED_METHODS = ['SUBSCRIBE', 'PUBLISH', 'OPTIONS'] as const;

export const ALLOW_HEADER = ALLOWED_METHODS.join(', ');
