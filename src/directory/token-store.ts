/** How a token was obtained. */
export type TokenMethod = 'api_key' | 'user';

/** A REST auth token as stored: only the SHA-256 digest of the token itself. */
export interface StoredToken {
  digest: string;
  accountId: string;
  /** The user who logged in (user_auth). */
  ownerId?: string;
  method: TokenMethod;
  createdAt: number;
  expiresAt: number;
}

/** Durable home of REST auth tokens. */
export interface TokenStore {
  insertToken(token: StoredToken): void;
  findToken(digest: string): StoredToken | undefined;
  deleteToken(digest: string): void;
  /** Deletes tokens whose expiry is at or before `now`; returns how many. */
  deleteExpiredTokens(now: number): number;
  /** Revokes an account's tokens obtained by `method` (an api key rotation revokes the old key's tokens). */
  deleteAccountTokens(accountId: string, method: TokenMethod): void;
}
