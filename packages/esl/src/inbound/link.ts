/** One authenticated connection of the inbound client and everything that dies with it. */
import type { CommandTarget } from '../commands/command-layer.js';
import { ExecutionTracker } from '../commands/execution-tracker.js';
import { BackgroundJobs } from '../commands/jobs.js';
import type { EslEvent } from '../protocol/event.js';
import type { Connection } from '../transport/connection.js';
import { SubscriptionModel } from './subscriptions.js';

/** A filter the library added so a pending bgapi/execute still sees its events while user filters exist. */
export interface OperationFilter {
  header: string;
  value: string;
  onWire: boolean;
}

export interface Link extends CommandTarget {
  /** What this connection has actually been sent (user subscriptions plus the library's own). */
  readonly wire: SubscriptionModel;
  /** In-flight `event` commands the library sent for its own needs, by type. */
  readonly internalSubs: Map<string, Promise<void>>;
  /** Filters protecting the events of pending bgapi/execute calls while user filters exist. */
  readonly opFilters: Map<string, OperationFilter>;
  /**
   * Events that arrived while the link was being restored after a reconnect: held back so no
   * event reaches user handlers before the client reports `connected`. Undefined once adopted.
   */
  early: EslEvent[] | undefined;
  notice: string | undefined;
  stableTimer: NodeJS.Timeout | undefined;
  detach: () => void;
}

export function newLink(conn: Connection): Link {
  return {
    conn,
    wire: new SubscriptionModel(),
    internalSubs: new Map(),
    jobs: new BackgroundJobs(),
    executions: new ExecutionTracker(),
    opFilters: new Map(),
    early: [],
    notice: undefined,
    stableTimer: undefined,
    detach: () => undefined,
  };
}
