/** Replicas of one listener's subscription and filter state as mod_event_socket keeps it. */
import { EVENT_NAMES, type EventFormat } from '../protocol/event.js';

const KNOWN = new Set<string>(EVENT_NAMES);
/** Every type ALL switches on (EVENT_NAMES minus ALL itself). */
const ALL_TYPES: readonly string[] = EVENT_NAMES.filter((n) => n !== 'ALL');

/**
 * The event type FreeSWITCH's switch_name_event resolves a word to: names match case-insensitively,
 * and a name with any 13-character prefix (SWITCH_EVENT_CHANNEL_ANSWER) is accepted too. Unknown
 * words come back upper-cased (FreeSWITCH skips them; a newer server may know them).
 */
export function normalizeEventName(word: string): string {
  const upper = word.toUpperCase();
  if (KNOWN.has(upper)) return upper;
  if (upper.length > 13 && KNOWN.has(upper.slice(13))) return upper.slice(13);
  return upper;
}

/**
 * A replica of one listener's subscription state in mod_event_socket (event_list[] plus the
 * subclass hash), driven by the same command words FreeSWITCH parses, so that it can answer
 * "would FreeSWITCH send this event?" and rebuild the state on a fresh connection.
 *
 * Mirrors parse_command (MES): `event` words after CUSTOM are subclasses; ALL sets every type and
 * every subclass; `nixevent X` while ALL is on turns into every-type-except-X; `nixevent CUSTOM`
 * only starts subclass removal (it never clears the CUSTOM type); `nixevent ALL` clears the types
 * but not the subclass hash, and `noevents` clears both.
 */
export class SubscriptionModel {
  format: EventFormat = 'plain';
  /** Enabled types; contains 'ALL' while the ALL flag is set. */
  private readonly types = new Set<string>();
  private readonly subclasses = new Set<string>();
  /** Set by ALL (set_all_custom): every subclass is in the hash, minus those nixed since. */
  private allSubclasses = false;
  private readonly nixedSubclasses = new Set<string>();

  get empty(): boolean {
    return this.types.size === 0 && this.subclasses.size === 0 && !this.allSubclasses;
  }

  /** Applies the words of an `event [format] <names…>` command as sent on the wire. */
  applyEvent(words: readonly string[]): void {
    let i = 0;
    const first = words[0]?.toLowerCase();
    if (first === 'plain' || first === 'json' || first === 'xml') {
      this.format = first;
      i = 1;
    }
    let custom = false;
    for (; i < words.length; i++) {
      const w = words[i]!;
      if (custom) {
        this.subclasses.add(w);
        this.nixedSubclasses.delete(w);
        continue;
      }
      const t = normalizeEventName(w);
      if (!KNOWN.has(t)) continue;
      if (t === 'ALL') {
        for (const x of ALL_TYPES) this.types.add(x);
        this.allSubclasses = true;
        this.nixedSubclasses.clear();
      }
      this.types.add(t);
      if (t === 'CUSTOM') custom = true;
    }
  }

  /** Applies the words of a `nixevent <names…>` command. */
  applyNixevent(words: readonly string[]): void {
    let custom = false;
    for (const w of words) {
      if (custom) {
        this.subclasses.delete(w);
        if (this.allSubclasses) this.nixedSubclasses.add(w);
        continue;
      }
      const t = normalizeEventName(w);
      if (!KNOWN.has(t)) continue;
      if (t === 'CUSTOM') custom = true;
      else if (t === 'ALL') this.types.clear();
      else {
        this.types.delete('ALL');
        this.types.delete(t);
      }
    }
  }

  applyNoevents(): void {
    this.types.clear();
    this.subclasses.clear();
    this.allSubclasses = false;
    this.nixedSubclasses.clear();
  }

  /** True if an event of this type (and subclass) passes the subscription (MES event_handler). */
  wants(name: string, subclass: string | undefined): boolean {
    if (this.types.has('ALL')) return true;
    if (!this.types.has(name)) return false;
    if (name !== 'CUSTOM' || subclass === undefined) return true;
    return this.subclasses.has(subclass) || (this.allSubclasses && !this.nixedSubclasses.has(subclass));
  }

  /** True if events of type `name` are sent at all (ignoring subclasses). */
  hasType(name: string): boolean {
    return this.types.has('ALL') || this.types.has(name);
  }

  /** Enabled types other than ALL and CUSTOM, for building a `nixevent`. */
  enabledTypes(): string[] {
    return [...this.types].filter((t) => t !== 'ALL');
  }

  /** Explicitly added subclasses. */
  subclassList(): string[] {
    return [...this.subclasses];
  }

  /**
   * Command lines (without the trailing blank line) that rebuild this state on a listener that has
   * no subscriptions. Each is an `event …` or `nixevent …` line.
   */
  restoreLines(): string[] {
    if (this.empty) return [];
    const subs = [...this.subclasses];
    const types = [...this.types].filter((t) => t !== 'ALL' && t !== 'CUSTOM');
    if (!this.allSubclasses && (this.types.has('CUSTOM') || subs.length === 0)) {
      // The common case: one line (CUSTOM and its subclasses last).
      const words = this.types.has('CUSTOM') ? [...types, 'CUSTOM', ...subs] : types;
      return words.length > 0 ? [`event ${this.format} ${words.join(' ')}`] : [];
    }
    // The subclass hash can only be filled through `event`, which also turns types on; FreeSWITCH's
    // `nixevent ALL` clears the types but keeps the hash, so: fill the hash, clear, set the types.
    const lines: string[] = [];
    const custom = subs.length > 0 ? ` CUSTOM ${subs.join(' ')}` : '';
    if (this.allSubclasses) {
      lines.push(`event ${this.format} ALL${custom}`);
      if (this.nixedSubclasses.size > 0) lines.push(`nixevent CUSTOM ${[...this.nixedSubclasses].join(' ')}`);
      if (this.types.has('ALL')) return lines;
      const missing = ALL_TYPES.filter((t) => !this.types.has(t));
      if (this.types.has('CUSTOM') && missing.length > 0) {
        // ALL minus a few: nixing them also clears the ALL flag (never nix CUSTOM: that starts subclasses).
        lines.push(`nixevent ${missing.join(' ')}`);
        return lines;
      }
    } else {
      lines.push(`event ${this.format}${custom}`);
    }
    lines.push('nixevent ALL');
    const words = this.types.has('CUSTOM') ? [...types, 'CUSTOM'] : types;
    if (words.length > 0) lines.push(`event ${this.format} ${words.join(' ')}`);
    return lines;
  }
}

/** Filters as FreeSWITCH keeps them: an ordered list of header/value pairs, duplicates allowed. */
export class FilterModel {
  private list: Array<[string, string]> = [];

  get size(): number {
    return this.list.length;
  }

  entries(): ReadonlyArray<readonly [string, string]> {
    return this.list;
  }

  add(header: string, value: string): void {
    this.list.push([header, value]);
  }

  /**
   * Removes what `filter delete <header> [<value>]` removes: `all` clears everything, otherwise
   * every entry with that header (case-insensitive) and, if given, that exact value.
   * Returns the removed entries.
   */
  delete(header: string, value?: string): Array<[string, string]> {
    const removed: Array<[string, string]> = [];
    if (header.toLowerCase() === 'all') {
      removed.push(...this.list);
      this.list = [];
      return removed;
    }
    const h = header.toLowerCase();
    this.list = this.list.filter((e) => {
      const hit = e[0].toLowerCase() === h && (value === undefined || e[1] === value);
      if (hit) removed.push(e);
      return !hit;
    });
    return removed;
  }
}
