import type { Clock } from '../ports/clock.js';
import {
  credentialsHash,
  digestsEqual,
  isApiKey,
  isUserCredentials,
  newAuthToken,
  secretDigest,
} from './credentials.js';
import type { DirectoryStore } from './directory-store.js';
import type { Account } from './documents.js';
import type { TokenMethod, TokenStore } from './token-store.js';

export interface AuthServiceOptions {
  store: DirectoryStore;
  tokens: TokenStore;
  clock: Clock;
  /** Token lifetime, seconds (Kazoo: 3600). */
  tokenTtl: number;
}

const UNKNOWN_ACCOUNT_SALT = '0'.repeat(32);

/** What a valid token grants. */
export interface AuthGrant {
  account: Account;
  /** The logged-in user, for user_auth tokens. */
  ownerId?: string;
  method: TokenMethod;
  expiresAt: number;
}

/** A freshly issued token (the only time the token exists outside the client). */
export interface IssuedToken extends AuthGrant {
  token: string;
}

/** How a user_auth request names its account. */
export type AccountSelector = { accountName: string } | { accountRealm: string };

/**
 * Kazoo's api_auth and user_auth: trade an api key or md5 credentials for a token that
 * expires. Tokens are stored as digests; every check is constant-time on digests.
 */
export class AuthService {
  constructor(private readonly o: AuthServiceOptions) {}

  /** undefined for an unknown or malformed key (the API answers 401 either way). */
  authenticateApiKey(apiKey: string): IssuedToken | undefined {
    if (!isApiKey(apiKey.toLowerCase())) return undefined;
    const digest = secretDigest(apiKey.toLowerCase());
    const found = this.o.store.findAccountByApiKeyDigest(digest);
    if (!found || !digestsEqual(found.apiKeyDigest, digest)) return undefined;
    return this.issue(found.account, 'api_key');
  }

  /** `credentials` = md5hex(lower(username) + ':' + password), as Kazoo clients send it. */
  async authenticateUser(credentials: string, selector: AccountSelector): Promise<IssuedToken | undefined> {
    if (!isUserCredentials(credentials.toLowerCase())) return undefined;
    const account = this.accountFor(selector);
    // Hash even for an unknown account, so the answer's timing does not tell which accounts exist.
    const hash = await credentialsHash(account?.id ?? UNKNOWN_ACCOUNT_SALT, credentials);
    if (!account) return undefined;
    const user = this.o.store.findUserByCredentialsHash(account.id, hash);
    if (!user?.credentialsHash || !digestsEqual(user.credentialsHash, hash)) return undefined;
    return this.issue(account, 'user', user.id);
  }

  /** The grant of a token, or undefined when it is unknown, expired or its account is gone. */
  verify(token: string): AuthGrant | undefined {
    if (token === '' || token.length > 512) return undefined;
    const digest = secretDigest(token);
    const stored = this.o.tokens.findToken(digest);
    if (!stored || !digestsEqual(stored.digest, digest)) return undefined;
    if (stored.expiresAt <= this.o.clock.now()) {
      this.o.tokens.deleteToken(digest);
      return undefined;
    }
    const account = this.o.store.getAccount(stored.accountId);
    if (!account) return undefined;
    const grant: AuthGrant = { account, method: stored.method, expiresAt: stored.expiresAt };
    if (stored.ownerId !== undefined) grant.ownerId = stored.ownerId;
    return grant;
  }

  /** Logs a token out. */
  revoke(token: string): void {
    this.o.tokens.deleteToken(secretDigest(token));
  }

  private accountFor(selector: AccountSelector): Account | undefined {
    if ('accountRealm' in selector) return this.o.store.findAccountByRealm(selector.accountRealm.toLowerCase());
    // Account names are not unique: an ambiguous name logs nobody in.
    const matches = this.o.store.findAccountsByName(selector.accountName);
    return matches.length === 1 ? matches[0] : undefined;
  }

  private issue(account: Account, method: TokenMethod, ownerId?: string): IssuedToken {
    const now = this.o.clock.now();
    const token = newAuthToken();
    const expiresAt = now + this.o.tokenTtl * 1000;
    this.o.tokens.deleteExpiredTokens(now);
    this.o.tokens.insertToken({ digest: secretDigest(token), accountId: account.id, ownerId, method, createdAt: now, expiresAt });
    const issued: IssuedToken = { token, account, method, expiresAt };
    if (ownerId !== undefined) issued.ownerId = ownerId;
    return issued;
  }
}
