/** The simulated core db: the `channels` and `calls` tables that `show` reads, filled from events. */
import type { SimEvent } from './events.js';
import { link, unlink } from './set-index.js';
import { CALL_STATES, CHANNEL_STATES } from './states.js';

/** Columns of the core db's `channels` table, in order (switch_core_sqldb.c:2853 create_channels_sql, v1.10.12). */
export const CHANNEL_COLUMNS = [
  'uuid', 'direction', 'created', 'created_epoch', 'name', 'state', 'cid_name', 'cid_num', 'ip_addr', 'dest',
  'application', 'application_data', 'dialplan', 'context', 'read_codec', 'read_rate', 'read_bit_rate',
  'write_codec', 'write_rate', 'write_bit_rate', 'secure', 'hostname', 'presence_id', 'presence_data',
  'accountcode', 'callstate', 'callee_name', 'callee_num', 'callee_direction', 'call_uuid', 'sent_callee_name',
  'sent_callee_num', 'initial_cid_name', 'initial_cid_num', 'initial_ip_addr', 'initial_dest',
  'initial_dialplan', 'initial_context',
] as const;
export type ChannelColumn = (typeof CHANNEL_COLUMNS)[number];
/** A `channels` row; a column no event has written yet is NULL (undefined). */
export type ChannelRow = Partial<Record<ChannelColumn, string>>;
/** The `calls` columns the views read (switch_core_sqldb.c:2937 create_calls_sql): one row per CHANNEL_BRIDGE. */
export interface CallRow {
  callUuid: string;
  createdEpoch: string;
  callerUuid: string;
  calleeUuid: string;
}

/** CHANNEL_STATE for these writes nothing (CS_HANGUP only with SWITCH_DEPRECATED_CORE_DB, off by default). */
const STATES_NOT_STORED = new Set<number>([
  CHANNEL_STATES.CS_NEW, CHANNEL_STATES.CS_INIT, CHANNEL_STATES.CS_HANGUP, CHANNEL_STATES.CS_REPORTING, CHANNEL_STATES.CS_DESTROY,
]);

/** The event types core_event_handler writes the channels/calls tables for (switch_core_sqldb.c:2449-2735). */
const TABLE_EVENTS = new Set([
  'CHANNEL_CREATE', 'CHANNEL_DESTROY', 'CHANNEL_ANSWER', 'CHANNEL_PROGRESS_MEDIA', 'CODEC', 'CHANNEL_HOLD',
  'CHANNEL_UNHOLD', 'CHANNEL_EXECUTE', 'CHANNEL_ORIGINATE', 'CALL_UPDATE', 'CHANNEL_CALLSTATE', 'CHANNEL_STATE',
  'CHANNEL_BRIDGE', 'CHANNEL_UNBRIDGE',
]);

/** switch_event_get_header_nil: the first value (any case), or ''. */
const hdr = (ev: SimEvent, name: string): string => ev.get(name) ?? '';

/**
 * The core db's `channels` and `calls` tables, which `show channels|calls|…` read. As in
 * switch_core_sqldb.c:2373 core_event_handler, only events fill them: a column holds what the last
 * event that writes it carried (so call_uuid stays NULL on a loopback B leg, which gets no
 * CHANNEL_ORIGINATE). Real FreeSWITCH applies the SQL 0.1–0.7 s later; here it is immediate.
 */
export class CoreDb {
  /** Rows in insertion (rowid) order. */
  readonly channels = new Set<ChannelRow>();
  /** Rows in insertion (rowid) order. */
  readonly calls = new Set<CallRow>();
  private readonly byUuid = new Map<string, ChannelRow>();
  /** The calls rows each leg is in (a leg's end drops them without a scan of every call). */
  private readonly callsOf = new Map<string, Set<CallRow>>();

  constructor(private readonly switchname: string) {}

  /** `update channels set … where uuid=…` */
  private update(uuid: string, cols: ChannelRow): void {
    const row = this.byUuid.get(uuid);
    if (row) Object.assign(row, cols);
  }

  private addCall(row: CallRow): void {
    this.calls.add(row);
    link(this.callsOf, row.callerUuid, row);
    link(this.callsOf, row.calleeUuid, row);
  }

  private dropCalls(uuid: string): void {
    const rows = this.callsOf.get(uuid);
    if (rows === undefined) return;
    for (const row of [...rows]) {
      this.calls.delete(row);
      unlink(this.callsOf, row.callerUuid, row);
      unlink(this.callsOf, row.calleeUuid, row);
    }
  }

  /** core_event_handler's SQL for one event (CHANNEL_UUID, CALL_SECURE and presence-data-cols are not simulated). */
  apply(ev: SimEvent): void {
    if (!TABLE_EVENTS.has(ev.name)) return;
    const uuid = hdr(ev, 'Unique-ID');
    switch (ev.name) {
      case 'CHANNEL_CREATE': {
        const row: ChannelRow = {
          uuid, direction: hdr(ev, 'Call-Direction'), created: hdr(ev, 'Event-Date-Local'),
          created_epoch: String(Math.floor(Date.now() / 1000)), name: hdr(ev, 'Channel-Name'),
          state: hdr(ev, 'Channel-State'), callstate: hdr(ev, 'Channel-Call-State'), dialplan: hdr(ev, 'Caller-Dialplan'),
          context: hdr(ev, 'Caller-Context'), hostname: this.switchname, initial_cid_name: hdr(ev, 'Caller-Caller-ID-Name'),
          initial_cid_num: hdr(ev, 'Caller-Caller-ID-Number'), initial_ip_addr: hdr(ev, 'Caller-Network-Addr'),
          initial_dest: hdr(ev, 'Caller-Destination-Number'), initial_dialplan: hdr(ev, 'Caller-Dialplan'),
          initial_context: hdr(ev, 'Caller-Context'),
        };
        this.channels.add(row);
        if (!this.byUuid.has(uuid)) this.byUuid.set(uuid, row);
        return;
      }
      case 'CHANNEL_DESTROY': {
        if (uuid === '') return;
        const row = this.byUuid.get(uuid);
        if (row) this.channels.delete(row);
        this.byUuid.delete(uuid);
        this.dropCalls(uuid);
        return;
      }
      case 'CHANNEL_ANSWER':
      case 'CHANNEL_PROGRESS_MEDIA':
      case 'CODEC':
        this.update(uuid, {
          read_codec: hdr(ev, 'Channel-Read-Codec-Name'), read_rate: hdr(ev, 'Channel-Read-Codec-Rate'),
          read_bit_rate: hdr(ev, 'Channel-Read-Codec-Bit-Rate'), write_codec: hdr(ev, 'Channel-Write-Codec-Name'),
          write_rate: hdr(ev, 'Channel-Write-Codec-Rate'), write_bit_rate: hdr(ev, 'Channel-Write-Codec-Bit-Rate'),
        });
        return;
      case 'CHANNEL_HOLD':
      case 'CHANNEL_UNHOLD':
      case 'CHANNEL_EXECUTE':
        this.update(uuid, {
          application: hdr(ev, 'Application'), application_data: hdr(ev, 'Application-Data'),
          presence_id: hdr(ev, 'Channel-Presence-ID'), presence_data: hdr(ev, 'Channel-Presence-Data'),
          accountcode: hdr(ev, 'variable_accountcode'),
        });
        return;
      case 'CHANNEL_ORIGINATE':
        // With CHANNEL_BRIDGE, the only writer of call_uuid (switch_core_sqldb.c:2527).
        this.update(uuid, {
          presence_id: hdr(ev, 'Channel-Presence-ID'), presence_data: hdr(ev, 'Channel-Presence-Data'),
          accountcode: hdr(ev, 'variable_accountcode'), call_uuid: hdr(ev, 'Channel-Call-UUID'),
        });
        return;
      case 'CALL_UPDATE':
        // The only writer of callee_direction: RECV on a loopback A leg once its B leg answers (switch_core_sqldb.c:2552).
        this.update(uuid, {
          callee_name: hdr(ev, 'Caller-Callee-ID-Name'), callee_num: hdr(ev, 'Caller-Callee-ID-Number'),
          sent_callee_name: hdr(ev, 'Sent-Callee-ID-Name'), sent_callee_num: hdr(ev, 'Sent-Callee-ID-Number'),
          callee_direction: hdr(ev, 'Direction'), cid_name: hdr(ev, 'Caller-Caller-ID-Name'),
          cid_num: hdr(ev, 'Caller-Caller-ID-Number'),
        });
        return;
      case 'CHANNEL_CALLSTATE': {
        // DOWN and HANGUP are not stored (switch_core_sqldb.c:2567).
        const n = Number.parseInt(hdr(ev, 'Channel-Call-State-Number'), 10) || 0;
        if (n !== CALL_STATES.DOWN && n !== CALL_STATES.HANGUP) this.update(uuid, { callstate: hdr(ev, 'Channel-Call-State') });
        return;
      }
      case 'CHANNEL_STATE': {
        // A missing number counts as CS_DESTROY; only CS_ROUTING rewrites the caller columns (switch_core_sqldb.c:2592).
        const text = hdr(ev, 'Channel-State-Number');
        const n = text === '' ? CHANNEL_STATES.CS_DESTROY : Number.parseInt(text, 10) || 0;
        if (STATES_NOT_STORED.has(n)) return;
        if (n !== CHANNEL_STATES.CS_ROUTING) {
          this.update(uuid, { state: hdr(ev, 'Channel-State') });
          return;
        }
        this.update(uuid, {
          state: hdr(ev, 'Channel-State'), cid_name: hdr(ev, 'Caller-Caller-ID-Name'), cid_num: hdr(ev, 'Caller-Caller-ID-Number'),
          callee_name: hdr(ev, 'Caller-Callee-ID-Name'), callee_num: hdr(ev, 'Caller-Callee-ID-Number'),
          sent_callee_name: hdr(ev, 'Sent-Callee-ID-Name'), sent_callee_num: hdr(ev, 'Sent-Callee-ID-Number'),
          ip_addr: hdr(ev, 'Caller-Network-Addr'), dest: hdr(ev, 'Caller-Destination-Number'), dialplan: hdr(ev, 'Caller-Dialplan'),
          context: hdr(ev, 'Caller-Context'), presence_id: hdr(ev, 'Channel-Presence-ID'),
          presence_data: hdr(ev, 'Channel-Presence-Data'), accountcode: hdr(ev, 'variable_accountcode'),
        });
        return;
      }
      case 'CHANNEL_BRIDGE': {
        let a = hdr(ev, 'Bridge-A-Unique-ID');
        let b = hdr(ev, 'Bridge-B-Unique-ID');
        if (a === '' || b === '') {
          a = hdr(ev, 'Caller-Unique-ID');
          b = hdr(ev, 'Other-Leg-Unique-ID');
        }
        // Both legs take the A leg's call uuid, and a calls row joins them (switch_core_sqldb.c:2687).
        const callUuid = hdr(ev, 'Channel-Call-UUID');
        this.update(a, { call_uuid: callUuid });
        this.update(b, { call_uuid: callUuid });
        this.addCall({ callUuid, createdEpoch: String(Math.floor(Date.now() / 1000)), callerUuid: a, calleeUuid: b });
        return;
      }
      case 'CHANNEL_UNBRIDGE': {
        // Each leg gets its own uuid back as call_uuid (switch_core_sqldb.c:2721).
        const callUuid = hdr(ev, 'Channel-Call-UUID');
        for (const row of this.channels) if (row.call_uuid === callUuid) row.call_uuid = row.uuid;
        this.dropCalls(hdr(ev, 'Caller-Unique-ID'));
        return;
      }
      default:
        return;
    }
  }

  /** The `channels` row of a uuid. */
  channel(uuid: string): ChannelRow | undefined {
    return this.byUuid.get(uuid);
  }
}
