import { DirectoryValidationError, UnknownIdentifierError } from './directory/directory-error.js';
import type { DirectoryService } from './directory/directory-service.js';
import type { Account } from './directory/documents.js';

/**
 * `presence-admin`: bootstrap and look after accounts from a shell, on the same database file
 * the server uses (it sees new accounts at once: the directory has no cache).
 *
 *   account create --name N --realm R [--superadmin]   new account and its api key (shown once)
 *   account list                                       every account (no keys)
 *   account api-key --realm R                          issue a new api key: the old key and the
 *                                                      tokens obtained with it stop working
 *   account delete --realm R                           delete the account, its users and devices
 *
 * Api keys are stored only as digests, so "show the key" is impossible by design: a lost key
 * is replaced with `api-key`.
 */
export type AdminCommand =
  | { kind: 'account-create'; name: string; realm: string; superadmin: boolean }
  | { kind: 'account-list' }
  | { kind: 'account-api-key'; realm: string }
  | { kind: 'account-delete'; realm: string }
  | { kind: 'help' };

export const ADMIN_USAGE = [
  'usage: presence-admin <command>',
  '  account create --name NAME --realm REALM [--superadmin]',
  '  account list',
  '  account api-key --realm REALM     (issues a new key; the old one stops working)',
  '  account delete --realm REALM',
  '  help',
].join('\n');

/** A command line that cannot be run; the message says what is wrong. */
export class AdminUsageError extends Error {
  override readonly name = 'AdminUsageError';
}

/** What the CLI prints and exits with. */
export interface AdminResult {
  exitCode: number;
  /** JSON (or the usage text) for stdout. */
  stdout?: string;
  /** A one-line reason for stderr. */
  stderr?: string;
}

const FLAGS: Record<string, { takesValue: boolean }> = {
  name: { takesValue: true },
  realm: { takesValue: true },
  superadmin: { takesValue: false },
};

function parseFlags(args: readonly string[], allowed: readonly string[]): Map<string, string | true> {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) throw new AdminUsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = FLAGS[flag];
    if (!spec || !allowed.includes(flag)) throw new AdminUsageError(`unknown option --${flag}`);
    if (flags.has(flag)) throw new AdminUsageError(`option --${flag} given twice`);
    if (!spec.takesValue) {
      if (eq >= 0) throw new AdminUsageError(`option --${flag} takes no value`);
      flags.set(flag, true);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value.startsWith('--')) throw new AdminUsageError(`option --${flag} needs a value`);
    flags.set(flag, value);
  }
  return flags;
}

function requiredFlag(flags: Map<string, string | true>, flag: string): string {
  const value = flags.get(flag);
  if (typeof value !== 'string' || value.trim() === '') throw new AdminUsageError(`option --${flag} is required`);
  return value;
}

/** Parses the words after `presence-admin`; throws AdminUsageError. */
export function parseAdminCommand(argv: readonly string[]): AdminCommand {
  const [noun, verb, ...rest] = argv;
  if (noun === undefined || noun === 'help' || noun === '--help' || noun === '-h') return { kind: 'help' };
  if (noun !== 'account') throw new AdminUsageError(`unknown command "${noun}"`);
  switch (verb) {
    case 'create': {
      const flags = parseFlags(rest, ['name', 'realm', 'superadmin']);
      return { kind: 'account-create', name: requiredFlag(flags, 'name'), realm: requiredFlag(flags, 'realm'), superadmin: flags.has('superadmin') };
    }
    case 'list':
      parseFlags(rest, []);
      return { kind: 'account-list' };
    case 'api-key':
      return { kind: 'account-api-key', realm: requiredFlag(parseFlags(rest, ['realm']), 'realm') };
    case 'delete':
      return { kind: 'account-delete', realm: requiredFlag(parseFlags(rest, ['realm']), 'realm') };
    default:
      throw new AdminUsageError(verb === undefined ? 'account needs a command: create, list, api-key or delete' : `unknown account command "${verb}"`);
  }
}

function summary(account: Account): { account_id: string; name: string; realm: string; superadmin: boolean } {
  return { account_id: account.id, name: account.name, realm: account.realm, superadmin: account.superadmin };
}

function accountByRealm(directory: DirectoryService, realm: string): Account {
  const account = directory.findAccountByRealm(realm);
  if (!account) throw new AdminUsageError(`no account has realm ${realm.toLowerCase()}`);
  return account;
}

/** Runs a parsed command; returns what to print as JSON. */
export function runAdminCommand(command: AdminCommand, directory: DirectoryService): unknown {
  switch (command.kind) {
    case 'help':
      return undefined;
    case 'account-create': {
      const { account, apiKey } = directory.createAccount({ name: command.name, realm: command.realm }, { superadmin: command.superadmin });
      return { ...summary(account), api_key: apiKey };
    }
    case 'account-list':
      return directory.listAccounts().map(summary);
    case 'account-api-key': {
      const account = accountByRealm(directory, command.realm);
      return { account_id: account.id, realm: account.realm, api_key: directory.rotateApiKey(account.id) };
    }
    case 'account-delete': {
      const account = directory.deleteAccount(accountByRealm(directory, command.realm).id);
      return { ...summary(account), deleted: true };
    }
  }
}

/**
 * The whole CLI without the process: parse, run, and say what to print and the exit code
 * (0 done, 1 refused by the directory, 2 bad command line).
 */
export function executeAdmin(argv: readonly string[], directory: DirectoryService): AdminResult {
  let command: AdminCommand;
  try {
    command = parseAdminCommand(argv);
  } catch (err) {
    if (err instanceof AdminUsageError) return { exitCode: 2, stderr: `presence-admin: ${err.message}\n${ADMIN_USAGE}\n` };
    throw err;
  }
  if (command.kind === 'help') return { exitCode: 0, stdout: `${ADMIN_USAGE}\n` };
  try {
    return { exitCode: 0, stdout: `${JSON.stringify(runAdminCommand(command, directory), null, 2)}\n` };
  } catch (err) {
    if (err instanceof AdminUsageError) return { exitCode: 1, stderr: `presence-admin: ${err.message}\n` };
    if (err instanceof DirectoryValidationError) {
      return { exitCode: 1, stderr: `presence-admin: invalid account: ${JSON.stringify(err.fields)}\n` };
    }
    if (err instanceof UnknownIdentifierError) return { exitCode: 1, stderr: `presence-admin: ${err.message}\n` };
    throw err;
  }
}
