/**
 * The operator's operations on accounts and calls, in one place: the `prepaid` CLI and the admin
 * API both go through a PrepaidOperations, backed either by the database itself (storeOperations)
 * or by a running `prepaid serve` (the control socket's client, control-client.ts).
 */
import {
  PrepaidDbError,
  PrepaidInputError,
  toDbError,
  type AccountDoc,
  type AccountListing,
  type AccountSummary,
  type CallSummary,
  type CreditDoc,
  type PrepaidStore,
} from './store.js';

export interface NewAccount {
  account: string;
  intervalDuration: number;
  name?: string;
  /** Initial credit in intervals, recorded as the credit with id `initial`. */
  credit?: number;
}

export interface CreditRequest {
  intervals: number;
  /** Idempotency key: the same id applies once per account. */
  id?: string;
  reason?: string;
}

export interface CreditResult {
  applied: boolean;
  remaining: number;
  credit: CreditDoc;
}

export interface CallsQuery {
  account?: string;
  limit?: number;
}

export interface PrepaidOperations {
  /** Where the data lives, safe to print (credentials redacted). */
  readonly description: string;
  createAccount(input: NewAccount): Promise<{ account: AccountDoc; remaining: number }>;
  addCredit(account: string, request: CreditRequest): Promise<CreditResult>;
  /** Null when there is no such account. */
  accountSummary(account: string): Promise<AccountSummary | null>;
  listAccounts(): Promise<AccountListing[]>;
  recentCalls(query: CallsQuery): Promise<CallSummary[]>;
  close(): Promise<void>;
}

/** The idempotency key of an account's initial credit (`account create --credit`). */
export const INITIAL_CREDIT_ID = 'initial';

/** The account does not exist (the API answers 404, `account show` exits 3). */
export class AccountNotFoundError extends PrepaidInputError {
  readonly account: string;
  constructor(account: string) {
    super(`no account ${account}`);
    this.name = 'AccountNotFoundError';
    this.account = account;
  }
}

/** The account already exists (the API answers 409). */
export class AccountExistsError extends PrepaidInputError {
  constructor(account: string) {
    super(`account ${account} already exists`);
    this.name = 'AccountExistsError';
  }
}

/** Checks a new account completely before anything is written, so a bad request writes nothing. */
function validateNewAccount(input: NewAccount): void {
  if (!Number.isFinite(input.intervalDuration) || input.intervalDuration <= 0) {
    throw new PrepaidInputError('interval_duration must be a positive number of seconds');
  }
  if (input.credit !== undefined && (!Number.isInteger(input.credit) || input.credit <= 0)) {
    throw new PrepaidInputError('credit must be a positive whole number of intervals');
  }
  if (input.name !== undefined && typeof input.name !== 'string') throw new PrepaidInputError('name must be a string');
}

/** Operations straight on the database. `owned`: close() closes the store too. */
export function storeOperations(store: PrepaidStore, options: { owned?: boolean } = {}): PrepaidOperations {
  return {
    description: store.description,
    async createAccount(input) {
      validateNewAccount(input);
      if (await store.getAccount(input.account)) throw new AccountExistsError(input.account);
      const doc: { account: string; intervalDuration: number; name?: string } = {
        account: input.account,
        intervalDuration: input.intervalDuration,
      };
      if (input.name !== undefined) doc.name = input.name;
      let account: AccountDoc;
      try {
        account = await store.createAccount(doc);
      } catch (err) {
        // Created by someone else between the check and the write.
        if (err instanceof PrepaidInputError && /already exists/.test(err.message)) throw new AccountExistsError(input.account);
        throw err;
      }
      if (input.credit !== undefined) {
        try {
          await store.addCredit(input.account, input.credit, { id: INITIAL_CREDIT_ID, reason: 'initial credit' });
        } catch (err) {
          // Two documents, two writes: say exactly what is missing and how to add it safely.
          const db = toDbError(err, 'add the initial credit');
          throw new PrepaidDbError(
            db.code,
            `account ${input.account} was created, but its initial credit was not recorded (${db.message}); ` +
              `add it with: prepaid account credit ${input.account} ${input.credit} --id ${INITIAL_CREDIT_ID}`,
          );
        }
      }
      return { account, remaining: input.credit ?? 0 };
    },
    async addCredit(account, request) {
      if (!(await store.getAccount(account))) throw new AccountNotFoundError(account);
      const options: { id?: string; reason?: string } = {};
      if (request.id !== undefined) options.id = request.id;
      if (request.reason !== undefined) options.reason = request.reason;
      const { applied, credit } = await store.addCredit(account, request.intervals, options);
      return { applied, credit, remaining: await store.remaining(account) };
    },
    accountSummary: (account) => store.accountSummary(account),
    listAccounts: () => store.listAccounts(),
    recentCalls: (query) => store.recentCalls(query),
    async close() {
      if (options.owned) await store.close();
    },
  };
}
