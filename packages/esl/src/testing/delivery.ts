import { eventFrame } from '../protocol/event-serializer.js';
import type { EventFormat } from '../protocol/event.js';
import type { SimEvent } from './events.js';
import { link, unlink } from './set-index.js';

/** What the delivery index needs to know about an ESL connection (implemented by Connection). */
export interface DeliveryTarget {
  readonly closed: boolean;
  /** UUID of the session the listener is bound to (outbound socket, inbound `myevents <uuid>`). */
  readonly sessionUuid: string | undefined;
  /** `myevents` on a bound session: only events of that session (or jobs it owns) can pass. */
  readonly sessionScoped: boolean;
  /** Event types the listener subscribed to ('ALL' included); empty while events are off. */
  readonly subscribedTypes: ReadonlySet<string>;
  /** `log` is on. */
  readonly logging: boolean;
  /**
   * The listener's filters when every one of them lets events in by a plain value ([header,
   * value]): an event then reaches it only if one of those headers has that value. Undefined
   * without filters, or with any exclusion or regex among them.
   */
  readonly literalFilters: ReadonlyArray<readonly [string, string]> | undefined;
  /** The full MES event_handler check and queueing. */
  offer(ev: SimEvent): void;
  offerLog(frame: Buffer, level: number): void;
}

const NO_TYPES: readonly string[] = [];
const NO_FILTERS: ReadonlyArray<readonly [string, string]> = [];

/**
 * Fan-out of events and log lines to the ESL connections. FreeSWITCH hands every event to every
 * listener (MES event_handler); doing that literally costs connections × events checks, each
 * scanning the event's headers. Here connections are indexed by what can reach them, and the full
 * check (`offer`: subscription, CUSTOM subclasses, filters, the myevents Unique-ID and
 * Job-Owner-UUID rules) runs only for those candidates, so what each connection receives is the
 * same as when every connection is asked.
 */
export class Delivery<C extends DeliveryTarget = DeliveryTarget> {
  /** Every connection bound to a session, by session UUID (whatever it subscribed to). */
  private readonly bySession = new Map<string, Set<C>>();
  /** Connections not limited to one session's events, by subscribed event type (and 'ALL'). */
  private readonly byType = new Map<string, Set<C>>();
  /**
   * Connections not limited to one session's events whose filters are all plain values, by
   * lower-cased header name, then lower-cased value (filters compare case-insensitively).
   */
  private readonly byFilter = new Map<string, Map<string, Set<C>>>();
  private readonly indexed = new Map<
    C,
    { session: string | undefined; types: readonly string[]; filters: ReadonlyArray<readonly [string, string]> }
  >();
  private readonly loggers = new Set<C>();

  /** (Re)indexes a connection after its session, subscriptions or log state changed. */
  update(c: C): void {
    const before = this.indexed.get(c);
    if (c.closed) {
      this.remove(c);
      return;
    }
    const session = c.sessionUuid;
    if (before?.session !== session) {
      if (before?.session !== undefined) unlink(this.bySession, before.session, c);
      if (session !== undefined) link(this.bySession, session, c);
    }
    // Session-scoped listeners are found through bySession; the others by their filters' values
    // when those are all plain values, else by type.
    const literal = c.sessionScoped || c.subscribedTypes.size === 0 ? undefined : c.literalFilters;
    const filters = literal ?? NO_FILTERS;
    for (const [name, value] of before?.filters ?? NO_FILTERS) this.unlinkFilter(name, value, c);
    for (const [name, value] of filters) this.linkFilter(name, value, c);
    const types = c.sessionScoped || literal !== undefined ? NO_TYPES : [...c.subscribedTypes];
    const old = before?.types ?? NO_TYPES;
    if (old.length > 0 || types.length > 0) {
      const keep = new Set(types);
      for (const t of old) if (!keep.has(t)) unlink(this.byType, t, c);
      for (const t of types) link(this.byType, t, c);
    }
    this.indexed.set(c, { session, types, filters });
    if (c.logging) this.loggers.add(c);
    else this.loggers.delete(c);
  }

  /** Forgets a connection (it closed). */
  remove(c: C): void {
    const before = this.indexed.get(c);
    if (!before) return;
    if (before.session !== undefined) unlink(this.bySession, before.session, c);
    for (const t of before.types) unlink(this.byType, t, c);
    for (const [name, value] of before.filters) this.unlinkFilter(name, value, c);
    this.indexed.delete(c);
    this.loggers.delete(c);
  }

  /** Connections bound to a session (a snapshot: callers may close them while iterating). */
  forSession(uuid: string): C[] {
    const set = this.bySession.get(uuid);
    return set ? [...set] : [];
  }

  /** Offers an event to every connection that could take it. */
  deliver(ev: SimEvent): void {
    // switch_event_get_header is case-insensitive, as Connection.offer's own checks are.
    const uuid = ev.get('Unique-ID');
    if (uuid !== undefined) this.offerScoped(this.bySession.get(uuid), ev);
    // myevents also passes the BACKGROUND_JOB of a bgapi the session sent (MES event_handler).
    const owner = ev.get('Job-Owner-UUID');
    if (owner !== undefined && owner !== uuid) this.offerScoped(this.bySession.get(owner), ev);
    const all = this.byType.get('ALL');
    if (all) for (const c of all) c.offer(ev);
    const named = this.byType.get(ev.name);
    if (named) for (const c of named) if (!all?.has(c)) c.offer(ev);
    if (this.byFilter.size > 0) this.offerFiltered(ev);
  }

  /** Offers an event to the connections one of whose plain-value filters it matches, once each. */
  private offerFiltered(ev: SimEvent): void {
    let offered: Set<C> | undefined;
    for (const [name, byValue] of this.byFilter) {
      const value = ev.get(name);
      const set = value === undefined ? undefined : byValue.get(value.toLowerCase());
      if (!set) continue;
      for (const c of set) {
        if (this.byFilter.size > 1) {
          offered ??= new Set();
          if (offered.has(c)) continue;
          offered.add(c);
        }
        c.offer(ev);
      }
    }
  }

  private linkFilter(name: string, value: string, c: C): void {
    const lower = name.toLowerCase();
    let byValue = this.byFilter.get(lower);
    if (!byValue) this.byFilter.set(lower, (byValue = new Map()));
    link(byValue, value.toLowerCase(), c);
  }

  private unlinkFilter(name: string, value: string, c: C): void {
    const lower = name.toLowerCase();
    const byValue = this.byFilter.get(lower);
    if (!byValue) return;
    unlink(byValue, value.toLowerCase(), c);
    if (byValue.size === 0) this.byFilter.delete(lower);
  }

  /** True while some connection has `log` on. */
  get logging(): boolean {
    return this.loggers.size > 0;
  }

  /** Offers a log frame to every connection that ran `log`. */
  deliverLog(frame: Buffer, level: number): void {
    for (const c of this.loggers) c.offerLog(frame, level);
  }

  private offerScoped(set: Set<C> | undefined, ev: SimEvent): void {
    if (set) for (const c of set) if (c.sessionScoped) c.offer(ev);
  }

}

const frames = new WeakMap<SimEvent, Partial<Record<EventFormat, Buffer>>>();

/**
 * The text/event-<format> frame of an event, serialized once per format and shared by every
 * connection that receives it.
 */
export function cachedEventFrame(ev: SimEvent, format: EventFormat): Buffer {
  let byFormat = frames.get(ev);
  if (!byFormat) frames.set(ev, (byFormat = {}));
  return (byFormat[format] ??= eventFrame(format, ev.headers, ev.body));
}
