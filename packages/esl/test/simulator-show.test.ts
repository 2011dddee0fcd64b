import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Simulator, SimulatorOptions } from '../src/testing/index.js';
import { Wire, startSim } from './helpers/simulator.js';

/*
 * `show` against the bytes of a real FreeSWITCH 1.10.12: every expected body below is that server's
 * own reply over ESL to the same command after the same calls, with uuids numbered in order of
 * appearance, dates and epochs replaced. The simulator runs with that server's hostname ('vm'), so
 * the lengths match too.
 */

/** Replaces uuids (UUID1, UUID2… in order of first appearance), local dates and epochs. */
function normalizer(): (text: string) => string {
  const ids = new Map<string, string>();
  return (text) =>
    text
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => {
        if (!ids.has(u)) ids.set(u, `UUID${ids.size + 1}`);
        return ids.get(u)!;
      })
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g, 'DATE')
      .replace(/(?<!\d)1[6-9]\d{8}(?!\d)/g, 'EPOCH');
}

interface Session {
  sim: Simulator;
  /** The normalized body of `api <cmd>`. */
  api: (cmd: string) => Promise<string>;
  /** The body's length in bytes, as is (Content-Length). */
  bytes: (cmd: string) => Promise<number>;
}

async function start(t: Parameters<typeof startSim>[0], dialplan: SimulatorOptions['dialplan'] = {}): Promise<Session> {
  const sim = await startSim(t, {
    hostname: 'vm',
    // The reference server's 9998: answer, sleep 2 s, hang up.
    dialplan: { '9998': { actions: ['answer', 'sleep 2000', 'hangup'], dpMatch: false }, ...dialplan },
  });
  const w = await Wire.login(sim);
  t.after(() => w.close());
  const norm = normalizer();
  const api = async (cmd: string): Promise<string> => norm((await w.command(`api ${cmd}`)).bodyText);
  const bytes = async (cmd: string): Promise<number> => Number((await w.command(`api ${cmd}`)).get('Content-Length'));
  return { sim, api, bytes };
}

/** `originate <dial> &park`, resolved once the A leg parks and the loopback B leg plays its tone. */
async function originatePark(sim: Simulator, api: (cmd: string) => Promise<string>, dial: string): Promise<string> {
  const parked = sim.waitForEvent((e) => e.name === 'CHANNEL_EXECUTE' && e.get('Application') === 'park');
  const playing = sim.waitForEvent((e) => e.name === 'CHANNEL_EXECUTE' && e.get('Application') === 'playback');
  const reply = await api(`originate ${dial} &park`);
  await Promise.all([parked, playing]);
  return reply;
}

/** The first column of each data row of a CSV answer. */
const uuidsOf = (csv: string): string[] => csv.split('\n').slice(1, -3).map((l) => l.split(',')[0]!);

const EMPTY: Array<[string, string]> = [
  ["show channels", `
0 total.
`],
  ["show channels as json", `{"row_count": 0}
`],
  ["show channels as xml", `<result row_count="0"/>
`],
  ["show channels as delim |", `
0 total.
`],
  ["show channels as csv", `
0 total.
`],
  ["show channels as delim", `
0 total.
`],
  ["show channels as bogus", `-ERR Cannot find format bogus
`],
  ["show channels as", `
0 total.
`],
  ["show channels count", `
0 total.
`],
  ["show channels count as json", `{"row_count":0,"rows":[]}`],
  ["show channels count as xml", `<result row_count="0"></result>
`],
  ["show channels count as delim |", `
0 total.
`],
  ["show calls", `
0 total.
`],
  ["show calls as json", `{"row_count": 0}
`],
  ["show calls as xml", `<result row_count="0"/>
`],
  ["show calls count", `
0 total.
`],
  ["show calls count as json", `{"row_count":0,"rows":[]}`],
  ["show calls count as xml", `<result row_count="0"></result>
`],
  ["show channels like", `
0 total.
`],
  ["show channels like foo", `
0 total.
`],
  ["show channels like foo as json", `{"row_count": 0}
`],
  ["show channels like foo as xml", `<result row_count="0"/>
`],
  ["show detailed_calls", `
0 total.
`],
  ["show detailed_calls as json", `{"row_count": 0}
`],
  ["show detailed_calls as xml", `<result row_count="0"/>
`],
  ["show bridged_calls", `
0 total.
`],
  ["show bridged_calls as json", `{"row_count": 0}
`],
  ["show detailed_bridged_calls", `
0 total.
`],
  ["show detailed_bridged_calls as xml", `<result row_count="0"/>
`],
  ["show registrations", `
0 total.
`],
  ["show registrations count", `
0 total.
`],
  ["show registrations as json", `{"row_count": 0}
`],
  ["show CHANNELS", `
0 total.
`],
  ["show Channels As JSON", `{"row_count": 0}
`],
  ["show channels foo", `
0 total.
`],
  ["show", `-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status
`],
  ["show channels  as  json", `{"row_count": 0}
`],
  ["show channelsx", `-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status
`],
  ["show call", `-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|channels [count|like <match string>]|calls|detailed_calls|bridged_calls|detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|interfaces|interface_types|tasks|limits|status
`],
];

test('show with no channels: every table, count and format, byte for byte', { timeout: 20_000 }, async (t) => {
  const { api } = await start(t);
  for (const [cmd, expected] of EMPTY) assert.equal(await api(cmd), expected, cmd);
});

const PARK: Array<[string, string]> = [
  ["show channels", `uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,application_data,dialplan,context,read_codec,read_rate,read_bit_rate,write_codec,write_rate,write_bit_rate,secure,hostname,presence_id,presence_data,accountcode,callstate,callee_name,callee_num,callee_direction,call_uuid,sent_callee_name,sent_callee_num,initial_cid_name,initial_cid_num,initial_ip_addr,initial_dest,initial_dialplan,initial_context
UUID1,outbound,DATE,EPOCH,loopback/9999-a,CS_EXECUTE,Outbound Call,default,,9999,park,,xml,default,L16,8000,128000,L16,8000,128000,,vm,,,,ACTIVE,,0000000000,RECV,UUID1,,,,0000000000,,9999,xml,default
UUID2,inbound,DATE,EPOCH,loopback/9999-b,CS_EXECUTE,,0000000000,,9999,playback,tone_stream://%(1000,0,440);loops=-1,xml,default,L16,8000,128000,L16,8000,128000,,vm,,,,ACTIVE,Outbound Call,default,,,,,,0000000000,,9999,xml,default

2 total.
`],
  ["show channels as json", `{"row_count":2,"rows":[{"uuid":"UUID1","direction":"outbound","created":"DATE","created_epoch":"EPOCH","name":"loopback/9999-a","state":"CS_EXECUTE","cid_name":"Outbound Call","cid_num":"default","ip_addr":"","dest":"9999","application":"park","application_data":"","dialplan":"xml","context":"default","read_codec":"L16","read_rate":"8000","read_bit_rate":"128000","write_codec":"L16","write_rate":"8000","write_bit_rate":"128000","secure":"","hostname":"vm","presence_id":"","presence_data":"","accountcode":"","callstate":"ACTIVE","callee_name":"","callee_num":"0000000000","callee_direction":"RECV","call_uuid":"UUID1","sent_callee_name":"","sent_callee_num":"","initial_cid_name":"","initial_cid_num":"0000000000","initial_ip_addr":"","initial_dest":"9999","initial_dialplan":"xml","initial_context":"default"},{"uuid":"UUID2","direction":"inbound","created":"DATE","created_epoch":"EPOCH","name":"loopback/9999-b","state":"CS_EXECUTE","cid_name":"","cid_num":"0000000000","ip_addr":"","dest":"9999","application":"playback","application_data":"tone_stream://%(1000,0,440);loops=-1","dialplan":"xml","context":"default","read_codec":"L16","read_rate":"8000","read_bit_rate":"128000","write_codec":"L16","write_rate":"8000","write_bit_rate":"128000","secure":"","hostname":"vm","presence_id":"","presence_data":"","accountcode":"","callstate":"ACTIVE","callee_name":"Outbound Call","callee_num":"default","callee_direction":"","call_uuid":"","sent_callee_name":"","sent_callee_num":"","initial_cid_name":"","initial_cid_num":"0000000000","initial_ip_addr":"","initial_dest":"9999","initial_dialplan":"xml","initial_context":"default"}]}`],
  ["show channels as xml", `<result row_count="2">
  <row row_id="1">
    <uuid>UUID1</uuid>
    <direction>outbound</direction>
    <created>DATE</created>
    <created_epoch>EPOCH</created_epoch>
    <name>loopback/9999-a</name>
    <state>CS_EXECUTE</state>
    <cid_name>Outbound Call</cid_name>
    <cid_num>default</cid_num>
    <ip_addr></ip_addr>
    <dest>9999</dest>
    <application>park</application>
    <application_data></application_data>
    <dialplan>xml</dialplan>
    <context>default</context>
    <read_codec>L16</read_codec>
    <read_rate>8000</read_rate>
    <read_bit_rate>128000</read_bit_rate>
    <write_codec>L16</write_codec>
    <write_rate>8000</write_rate>
    <write_bit_rate>128000</write_bit_rate>
    <secure></secure>
    <hostname>vm</hostname>
    <presence_id></presence_id>
    <presence_data></presence_data>
    <accountcode></accountcode>
    <callstate>ACTIVE</callstate>
    <callee_name></callee_name>
    <callee_num>0000000000</callee_num>
    <callee_direction>RECV</callee_direction>
    <call_uuid>UUID1</call_uuid>
    <sent_callee_name></sent_callee_name>
    <sent_callee_num></sent_callee_num>
    <initial_cid_name></initial_cid_name>
    <initial_cid_num>0000000000</initial_cid_num>
    <initial_ip_addr></initial_ip_addr>
    <initial_dest>9999</initial_dest>
    <initial_dialplan>xml</initial_dialplan>
    <initial_context>default</initial_context>
  </row>
  <row row_id="2">
    <uuid>UUID2</uuid>
    <direction>inbound</direction>
    <created>DATE</created>
    <created_epoch>EPOCH</created_epoch>
    <name>loopback/9999-b</name>
    <state>CS_EXECUTE</state>
    <cid_name></cid_name>
    <cid_num>0000000000</cid_num>
    <ip_addr></ip_addr>
    <dest>9999</dest>
    <application>playback</application>
    <application_data>tone_stream://%(1000,0,440);loops=-1</application_data>
    <dialplan>xml</dialplan>
    <context>default</context>
    <read_codec>L16</read_codec>
    <read_rate>8000</read_rate>
    <read_bit_rate>128000</read_bit_rate>
    <write_codec>L16</write_codec>
    <write_rate>8000</write_rate>
    <write_bit_rate>128000</write_bit_rate>
    <secure></secure>
    <hostname>vm</hostname>
    <presence_id></presence_id>
    <presence_data></presence_data>
    <accountcode></accountcode>
    <callstate>ACTIVE</callstate>
    <callee_name>Outbound Call</callee_name>
    <callee_num>default</callee_num>
    <callee_direction></callee_direction>
    <call_uuid></call_uuid>
    <sent_callee_name></sent_callee_name>
    <sent_callee_num></sent_callee_num>
    <initial_cid_name></initial_cid_name>
    <initial_cid_num>0000000000</initial_cid_num>
    <initial_ip_addr></initial_ip_addr>
    <initial_dest>9999</initial_dest>
    <initial_dialplan>xml</initial_dialplan>
    <initial_context>default</initial_context>
  </row>
</result>
`],
  ["show channels as delim |", `uuid|direction|created|created_epoch|name|state|cid_name|cid_num|ip_addr|dest|application|application_data|dialplan|context|read_codec|read_rate|read_bit_rate|write_codec|write_rate|write_bit_rate|secure|hostname|presence_id|presence_data|accountcode|callstate|callee_name|callee_num|callee_direction|call_uuid|sent_callee_name|sent_callee_num|initial_cid_name|initial_cid_num|initial_ip_addr|initial_dest|initial_dialplan|initial_context
UUID1|outbound|DATE|EPOCH|loopback/9999-a|CS_EXECUTE|Outbound Call|default||9999|park||xml|default|L16|8000|128000|L16|8000|128000||vm||||ACTIVE||0000000000|RECV|UUID1||||0000000000||9999|xml|default
UUID2|inbound|DATE|EPOCH|loopback/9999-b|CS_EXECUTE||0000000000||9999|playback|tone_stream://%(1000,0,440);loops=-1|xml|default|L16|8000|128000|L16|8000|128000||vm||||ACTIVE|Outbound Call|default||||||0000000000||9999|xml|default

2 total.
`],
  ["show channels as delim \\t", `uuid\tdirection\tcreated\tcreated_epoch\tname\tstate\tcid_name\tcid_num\tip_addr\tdest\tapplication\tapplication_data\tdialplan\tcontext\tread_codec\tread_rate\tread_bit_rate\twrite_codec\twrite_rate\twrite_bit_rate\tsecure\thostname\tpresence_id\tpresence_data\taccountcode\tcallstate\tcallee_name\tcallee_num\tcallee_direction\tcall_uuid\tsent_callee_name\tsent_callee_num\tinitial_cid_name\tinitial_cid_num\tinitial_ip_addr\tinitial_dest\tinitial_dialplan\tinitial_context
UUID1\toutbound\tDATE\tEPOCH\tloopback/9999-a\tCS_EXECUTE\tOutbound Call\tdefault\t\t9999\tpark\t\txml\tdefault\tL16\t8000\t128000\tL16\t8000\t128000\t\tvm\t\t\t\tACTIVE\t\t0000000000\tRECV\tUUID1\t\t\t\t0000000000\t\t9999\txml\tdefault
UUID2\tinbound\tDATE\tEPOCH\tloopback/9999-b\tCS_EXECUTE\t\t0000000000\t\t9999\tplayback\ttone_stream://%(1000,0,440);loops=-1\txml\tdefault\tL16\t8000\t128000\tL16\t8000\t128000\t\tvm\t\t\t\tACTIVE\tOutbound Call\tdefault\t\t\t\t\t\t0000000000\t\t9999\txml\tdefault

2 total.
`],
  ["show channels count", `
2 total.
`],
  ["show channels count as json", `{"row_count":2,"rows":[]}`],
  ["show channels count as xml", `<result row_count="2"></result>
`],
  ["show calls", `uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,presence_id,presence_data,accountcode,callstate,callee_name,callee_num,callee_direction,call_uuid,hostname,sent_callee_name,sent_callee_num,b_uuid,b_direction,b_created,b_created_epoch,b_name,b_state,b_cid_name,b_cid_num,b_ip_addr,b_dest,b_presence_id,b_presence_data,b_accountcode,b_callstate,b_callee_name,b_callee_num,b_callee_direction,b_sent_callee_name,b_sent_callee_num,call_created_epoch
UUID1,outbound,DATE,EPOCH,loopback/9999-a,CS_EXECUTE,Outbound Call,default,,9999,,,,ACTIVE,,0000000000,RECV,UUID1,vm,,,,,,,,,,,,,,,,,,,,,,
UUID2,inbound,DATE,EPOCH,loopback/9999-b,CS_EXECUTE,,0000000000,,9999,,,,ACTIVE,Outbound Call,default,,,vm,,,,,,,,,,,,,,,,,,,,,,

2 total.
`],
  ["show calls as json", `{"row_count":2,"rows":[{"uuid":"UUID1","direction":"outbound","created":"DATE","created_epoch":"EPOCH","name":"loopback/9999-a","state":"CS_EXECUTE","cid_name":"Outbound Call","cid_num":"default","ip_addr":"","dest":"9999","presence_id":"","presence_data":"","accountcode":"","callstate":"ACTIVE","callee_name":"","callee_num":"0000000000","callee_direction":"RECV","call_uuid":"UUID1","hostname":"vm","sent_callee_name":"","sent_callee_num":"","b_uuid":"","b_direction":"","b_created":"","b_created_epoch":"","b_name":"","b_state":"","b_cid_name":"","b_cid_num":"","b_ip_addr":"","b_dest":"","b_presence_id":"","b_presence_data":"","b_accountcode":"","b_callstate":"","b_callee_name":"","b_callee_num":"","b_callee_direction":"","b_sent_callee_name":"","b_sent_callee_num":"","call_created_epoch":""},{"uuid":"UUID2","direction":"inbound","created":"DATE","created_epoch":"EPOCH","name":"loopback/9999-b","state":"CS_EXECUTE","cid_name":"","cid_num":"0000000000","ip_addr":"","dest":"9999","presence_id":"","presence_data":"","accountcode":"","callstate":"ACTIVE","callee_name":"Outbound Call","callee_num":"default","callee_direction":"","call_uuid":"","hostname":"vm","sent_callee_name":"","sent_callee_num":"","b_uuid":"","b_direction":"","b_created":"","b_created_epoch":"","b_name":"","b_state":"","b_cid_name":"","b_cid_num":"","b_ip_addr":"","b_dest":"","b_presence_id":"","b_presence_data":"","b_accountcode":"","b_callstate":"","b_callee_name":"","b_callee_num":"","b_callee_direction":"","b_sent_callee_name":"","b_sent_callee_num":"","call_created_epoch":""}]}`],
  ["show calls as xml", `<result row_count="2">
  <row row_id="1">
    <uuid>UUID1</uuid>
    <direction>outbound</direction>
    <created>DATE</created>
    <created_epoch>EPOCH</created_epoch>
    <name>loopback/9999-a</name>
    <state>CS_EXECUTE</state>
    <cid_name>Outbound Call</cid_name>
    <cid_num>default</cid_num>
    <ip_addr></ip_addr>
    <dest>9999</dest>
    <presence_id></presence_id>
    <presence_data></presence_data>
    <accountcode></accountcode>
    <callstate>ACTIVE</callstate>
    <callee_name></callee_name>
    <callee_num>0000000000</callee_num>
    <callee_direction>RECV</callee_direction>
    <call_uuid>UUID1</call_uuid>
    <hostname>vm</hostname>
    <sent_callee_name></sent_callee_name>
    <sent_callee_num></sent_callee_num>
    <b_uuid></b_uuid>
    <b_direction></b_direction>
    <b_created></b_created>
    <b_created_epoch></b_created_epoch>
    <b_name></b_name>
    <b_state></b_state>
    <b_cid_name></b_cid_name>
    <b_cid_num></b_cid_num>
    <b_ip_addr></b_ip_addr>
    <b_dest></b_dest>
    <b_presence_id></b_presence_id>
    <b_presence_data></b_presence_data>
    <b_accountcode></b_accountcode>
    <b_callstate></b_callstate>
    <b_callee_name></b_callee_name>
    <b_callee_num></b_callee_num>
    <b_callee_direction></b_callee_direction>
    <b_sent_callee_name></b_sent_callee_name>
    <b_sent_callee_num></b_sent_callee_num>
    <call_created_epoch></call_created_epoch>
  </row>
  <row row_id="2">
    <uuid>UUID2</uuid>
    <direction>inbound</direction>
    <created>DATE</created>
    <created_epoch>EPOCH</created_epoch>
    <name>loopback/9999-b</name>
    <state>CS_EXECUTE</state>
    <cid_name></cid_name>
    <cid_num>0000000000</cid_num>
    <ip_addr></ip_addr>
    <dest>9999</dest>
    <presence_id></presence_id>
    <presence_data></presence_data>
    <accountcode></accountcode>
    <callstate>ACTIVE</callstate>
    <callee_name>Outbound Call</callee_name>
    <callee_num>default</callee_num>
    <callee_direction></callee_direction>
    <call_uuid></call_uuid>
    <hostname>vm</hostname>
    <sent_callee_name></sent_callee_name>
    <sent_callee_num></sent_callee_num>
    <b_uuid></b_uuid>
    <b_direction></b_direction>
    <b_created></b_created>
    <b_created_epoch></b_created_epoch>
    <b_name></b_name>
    <b_state></b_state>
    <b_cid_name></b_cid_name>
    <b_cid_num></b_cid_num>
    <b_ip_addr></b_ip_addr>
    <b_dest></b_dest>
    <b_presence_id></b_presence_id>
    <b_presence_data></b_presence_data>
    <b_accountcode></b_accountcode>
    <b_callstate></b_callstate>
    <b_callee_name></b_callee_name>
    <b_callee_num></b_callee_num>
    <b_callee_direction></b_callee_direction>
    <b_sent_callee_name></b_sent_callee_name>
    <b_sent_callee_num></b_sent_callee_num>
    <call_created_epoch></call_created_epoch>
  </row>
</result>
`],
  ["show calls count", `
2 total.
`],
  ["show calls count as json", `{"row_count":2,"rows":[]}`],
  ["show detailed_calls", `uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,application_data,dialplan,context,read_codec,read_rate,read_bit_rate,write_codec,write_rate,write_bit_rate,secure,hostname,presence_id,presence_data,accountcode,callstate,callee_name,callee_num,callee_direction,call_uuid,sent_callee_name,sent_callee_num,b_uuid,b_direction,b_created,b_created_epoch,b_name,b_state,b_cid_name,b_cid_num,b_ip_addr,b_dest,b_application,b_application_data,b_dialplan,b_context,b_read_codec,b_read_rate,b_read_bit_rate,b_write_codec,b_write_rate,b_write_bit_rate,b_secure,b_hostname,b_presence_id,b_presence_data,b_accountcode,b_callstate,b_callee_name,b_callee_num,b_callee_direction,b_call_uuid,b_sent_callee_name,b_sent_callee_num,call_created_epoch
UUID1,outbound,DATE,EPOCH,loopback/9999-a,CS_EXECUTE,Outbound Call,default,,9999,park,,xml,default,L16,8000,128000,L16,8000,128000,,vm,,,,ACTIVE,,0000000000,RECV,UUID1,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
UUID2,inbound,DATE,EPOCH,loopback/9999-b,CS_EXECUTE,,0000000000,,9999,playback,tone_stream://%(1000,0,440);loops=-1,xml,default,L16,8000,128000,L16,8000,128000,,vm,,,,ACTIVE,Outbound Call,default,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,

2 total.
`],
  ["show bridged_calls", `
0 total.
`],
  ["show bridged_calls as json", `{"row_count": 0}
`],
  ["show ^^:channels:as:json", `{"row_count":2,"rows":[{"uuid":"UUID1","direction":"outbound","created":"DATE","created_epoch":"EPOCH","name":"loopback/9999-a","state":"CS_EXECUTE","cid_name":"Outbound Call","cid_num":"default","ip_addr":"","dest":"9999","application":"park","application_data":"","dialplan":"xml","context":"default","read_codec":"L16","read_rate":"8000","read_bit_rate":"128000","write_codec":"L16","write_rate":"8000","write_bit_rate":"128000","secure":"","hostname":"vm","presence_id":"","presence_data":"","accountcode":"","callstate":"ACTIVE","callee_name":"","callee_num":"0000000000","callee_direction":"RECV","call_uuid":"UUID1","sent_callee_name":"","sent_callee_num":"","initial_cid_name":"","initial_cid_num":"0000000000","initial_ip_addr":"","initial_dest":"9999","initial_dialplan":"xml","initial_context":"default"},{"uuid":"UUID2","direction":"inbound","created":"DATE","created_epoch":"EPOCH","name":"loopback/9999-b","state":"CS_EXECUTE","cid_name":"","cid_num":"0000000000","ip_addr":"","dest":"9999","application":"playback","application_data":"tone_stream://%(1000,0,440);loops=-1","dialplan":"xml","context":"default","read_codec":"L16","read_rate":"8000","read_bit_rate":"128000","write_codec":"L16","write_rate":"8000","write_bit_rate":"128000","secure":"","hostname":"vm","presence_id":"","presence_data":"","accountcode":"","callstate":"ACTIVE","callee_name":"Outbound Call","callee_num":"default","callee_direction":"","call_uuid":"","sent_callee_name":"","sent_callee_num":"","initial_cid_name":"","initial_cid_num":"0000000000","initial_ip_addr":"","initial_dest":"9999","initial_dialplan":"xml","initial_context":"default"}]}`],
];

test('show after originate loopback/9999/default &park: csv, delim, json, xml, counts, calls views', { timeout: 20_000 }, async (t) => {
  const { sim, api } = await start(t);
  assert.equal(await originatePark(sim, api, 'loopback/9999/default'), '+OK UUID1\n');
  for (const [cmd, expected] of PARK) assert.equal(await api(cmd), expected, cmd);
  // The B leg has no call_uuid (only CHANNEL_ORIGINATE and CHANNEL_BRIDGE write it); the A leg's
  // callee_direction RECV comes from the CALL_UPDATE of the cid flip.
  const json = JSON.parse(await api('show channels as json')) as { rows: Array<Record<string, string>> };
  assert.deepEqual(json.rows.map((r) => [r['call_uuid'], r['callee_direction']]), [['UUID1', 'RECV'], ['', '']]);
});

test('show channels like: substring or LIKE pattern over uuid/name/cid/presence/accountcode, and its `as` quirk', { timeout: 20_000 }, async (t) => {
  const { sim, api, bytes } = await start(t);
  await originatePark(sim, api, 'loopback/9999/default');
  const all = await api('show channels');
  // Results of the reference server for the same matches.
  const cases: Array<[string, string[]]> = [
    ['9999', ['UUID1', 'UUID2']],
    ['9999-a', ['UUID1']],
    ['%9999%', ['UUID1', 'UUID2']],
    ['loopback_9999-b', ['UUID2']], // _ is any one character
    ['LOOPBACK/9999-A', ['UUID1']], // ASCII case does not matter
    ['Outbound', ['UUID1']],
    ['00000', ['UUID2']],
    ['%', ['UUID1', 'UUID2']],
    ['9999%', []], // with a % the pattern is used as is
    ['nomatch', []],
  ];
  for (const [match, uuids] of cases) assert.deepEqual(uuidsOf(await api(`show channels like ${match}`)), uuids, match);
  assert.equal(await api('show channels like'), all);
  assert.equal(await api('show channels like 9999 as json'), await api('show channels as json'));
  // The delim separator is read from argv[3], which here is the word `as` (1123 bytes on the reference server).
  const asDelim = await api('show channels like 9999 as delim |');
  assert.equal(asDelim.split('\n')[0], all.split('\n')[0]!.split(',').join('as'));
  assert.equal(await bytes('show channels like 9999 as delim |'), 1123);
  assert.equal(await api('show channels like nomatch as json'), '{"row_count": 0}\n');
  assert.equal(await api('show channels like nomatch as xml'), '<result row_count="0"/>\n');
});

const CID: Array<[string, string]> = [
  ["show channels", `uuid,direction,created,created_epoch,name,state,cid_name,cid_num,ip_addr,dest,application,application_data,dialplan,context,read_codec,read_rate,read_bit_rate,write_codec,write_rate,write_bit_rate,secure,hostname,presence_id,presence_data,accountcode,callstate,callee_name,callee_num,callee_direction,call_uuid,sent_callee_name,sent_callee_num,initial_cid_name,initial_cid_num,initial_ip_addr,initial_dest,initial_dialplan,initial_context
UUID1,outbound,DATE,EPOCH,loopback/9999-a,CS_EXECUTE,Outbound Call,default,,9999,park,,xml,default,L16,8000,128000,L16,8000,128000,,vm,,,,ACTIVE,A&B <x> "q" é,0000000000,RECV,UUID1,,,A&B <x> "q" é,0000000000,,9999,xml,default
UUID2,inbound,DATE,EPOCH,loopback/9999-b,CS_EXECUTE,A&B <x> "q" é,0000000000,,9999,playback,tone_stream://%(1000,0,440);loops=-1,xml,default,L16,8000,128000,L16,8000,128000,,vm,,,,ACTIVE,Outbound Call,default,,,,,A&B <x> "q" é,0000000000,,9999,xml,default

2 total.
`],
  ["show channels as json", `{"row_count":2,"rows":[{"uuid":"UUID1","direction":"outbound","created":"DATE","created_epoch":"EPOCH","name":"loopback/9999-a","state":"CS_EXECUTE","cid_name":"Outbound Call","cid_num":"default","ip_addr":"","dest":"9999","application":"park","application_data":"","dialplan":"xml","context":"default","read_codec":"L16","read_rate":"8000","read_bit_rate":"128000","write_codec":"L16","write_rate":"8000","write_bit_rate":"128000","secure":"","hostname":"vm","presence_id":"","presence_data":"","accountcode":"","callstate":"ACTIVE","callee_name":"A&B <x> \\"q\\" é","callee_num":"0000000000","callee_direction":"RECV","call_uuid":"UUID1","sent_callee_name":"","sent_callee_num":"","initial_cid_name":"A&B <x> \\"q\\" é","initial_cid_num":"0000000000","initial_ip_addr":"","initial_dest":"9999","initial_dialplan":"xml","initial_context":"default"},{"uuid":"UUID2","direction":"inbound","created":"DATE","created_epoch":"EPOCH","name":"loopback/9999-b","state":"CS_EXECUTE","cid_name":"A&B <x> \\"q\\" é","cid_num":"0000000000","ip_addr":"","dest":"9999","application":"playback","application_data":"tone_stream://%(1000,0,440);loops=-1","dialplan":"xml","context":"default","read_codec":"L16","read_rate":"8000","read_bit_rate":"128000","write_codec":"L16","write_rate":"8000","write_bit_rate":"128000","secure":"","hostname":"vm","presence_id":"","presence_data":"","accountcode":"","callstate":"ACTIVE","callee_name":"Outbound Call","callee_num":"default","callee_direction":"","call_uuid":"","sent_callee_name":"","sent_callee_num":"","initial_cid_name":"A&B <x> \\"q\\" é","initial_cid_num":"0000000000","initial_ip_addr":"","initial_dest":"9999","initial_dialplan":"xml","initial_context":"default"}]}`],
  ["show channels as xml", `<result row_count="2">
  <row row_id="1">
    <uuid>UUID1</uuid>
    <direction>outbound</direction>
    <created>DATE</created>
    <created_epoch>EPOCH</created_epoch>
    <name>loopback/9999-a</name>
    <state>CS_EXECUTE</state>
    <cid_name>Outbound Call</cid_name>
    <cid_num>default</cid_num>
    <ip_addr></ip_addr>
    <dest>9999</dest>
    <application>park</application>
    <application_data></application_data>
    <dialplan>xml</dialplan>
    <context>default</context>
    <read_codec>L16</read_codec>
    <read_rate>8000</read_rate>
    <read_bit_rate>128000</read_bit_rate>
    <write_codec>L16</write_codec>
    <write_rate>8000</write_rate>
    <write_bit_rate>128000</write_bit_rate>
    <secure></secure>
    <hostname>vm</hostname>
    <presence_id></presence_id>
    <presence_data></presence_data>
    <accountcode></accountcode>
    <callstate>ACTIVE</callstate>
    <callee_name>A&amp;B &lt;x&gt; "q" &#xE9;</callee_name>
    <callee_num>0000000000</callee_num>
    <callee_direction>RECV</callee_direction>
    <call_uuid>UUID1</call_uuid>
    <sent_callee_name></sent_callee_name>
    <sent_callee_num></sent_callee_num>
    <initial_cid_name>A&amp;B &lt;x&gt; "q" &#xE9;</initial_cid_name>
    <initial_cid_num>0000000000</initial_cid_num>
    <initial_ip_addr></initial_ip_addr>
    <initial_dest>9999</initial_dest>
    <initial_dialplan>xml</initial_dialplan>
    <initial_context>default</initial_context>
  </row>
  <row row_id="2">
    <uuid>UUID2</uuid>
    <direction>inbound</direction>
    <created>DATE</created>
    <created_epoch>EPOCH</created_epoch>
    <name>loopback/9999-b</name>
    <state>CS_EXECUTE</state>
    <cid_name>A&amp;B &lt;x&gt; "q" &#xE9;</cid_name>
    <cid_num>0000000000</cid_num>
    <ip_addr></ip_addr>
    <dest>9999</dest>
    <application>playback</application>
    <application_data>tone_stream://%(1000,0,440);loops=-1</application_data>
    <dialplan>xml</dialplan>
    <context>default</context>
    <read_codec>L16</read_codec>
    <read_rate>8000</read_rate>
    <read_bit_rate>128000</read_bit_rate>
    <write_codec>L16</write_codec>
    <write_rate>8000</write_rate>
    <write_bit_rate>128000</write_bit_rate>
    <secure></secure>
    <hostname>vm</hostname>
    <presence_id></presence_id>
    <presence_data></presence_data>
    <accountcode></accountcode>
    <callstate>ACTIVE</callstate>
    <callee_name>Outbound Call</callee_name>
    <callee_num>default</callee_num>
    <callee_direction></callee_direction>
    <call_uuid></call_uuid>
    <sent_callee_name></sent_callee_name>
    <sent_callee_num></sent_callee_num>
    <initial_cid_name>A&amp;B &lt;x&gt; "q" &#xE9;</initial_cid_name>
    <initial_cid_num>0000000000</initial_cid_num>
    <initial_ip_addr></initial_ip_addr>
    <initial_dest>9999</initial_dest>
    <initial_dialplan>xml</initial_dialplan>
    <initial_context>default</initial_context>
  </row>
</result>
`],
];

test("show escapes values as FreeSWITCH does: cid name 'A&B <x> \"q\" é' in csv, json and xml", { timeout: 20_000 }, async (t) => {
  const { sim, api } = await start(t);
  await originatePark(sim, api, `{origination_caller_id_name='A&B <x> "q" é'}loopback/9999/default`);
  for (const [cmd, expected] of CID) assert.equal(await api(cmd), expected, cmd);
  for (const match of ['A&B', "'<x>'", 'é']) assert.deepEqual(uuidsOf(await api(`show channels like ${match}`)), ['UUID2'], match);
});

const PARSE: Array<[string, string]> = [
  ["show channels as 'json'", `{"row_count":2,"rows":[{"uuid":"UUID1","direction":"outbound","created":"DATE","created_epoch":"EPOCH","name":"loopback/9999-a","state":"CS_EXECUTE","cid_name":"Outbound Call","cid_num":"default","ip_addr":"","dest":"9999","application":"park","application_data":"","dialplan":"xml","context":"default","read_codec":"L16","read_rate":"8000","read_bit_rate":"128000","write_codec":"L16","write_rate":"8000","write_bit_rate":"128000","secure":"","hostname":"vm","presence_id":"","presence_data":"","accountcode":"","callstate":"ACTIVE","callee_name":"x<!y & z","callee_num":"q2_z","callee_direction":"RECV","call_uuid":"UUID1","sent_callee_name":"","sent_callee_num":"","initial_cid_name":"x<!y & z","initial_cid_num":"q2_z","initial_ip_addr":"","initial_dest":"9999","initial_dialplan":"xml","initial_context":"default"},{"uuid":"UUID2","direction":"inbound","created":"DATE","created_epoch":"EPOCH","name":"loopback/9999-b","state":"CS_EXECUTE","cid_name":"x<!y & z","cid_num":"q2_z","ip_addr":"","dest":"9999","application":"playback","application_data":"tone_stream://%(1000,0,440);loops=-1","dialplan":"xml","context":"default","read_codec":"L16","read_rate":"8000","read_bit_rate":"128000","write_codec":"L16","write_rate":"8000","write_bit_rate":"128000","secure":"","hostname":"vm","presence_id":"","presence_data":"","accountcode":"","callstate":"ACTIVE","callee_name":"Outbound Call","callee_num":"default","callee_direction":"","call_uuid":"","sent_callee_name":"","sent_callee_num":"","initial_cid_name":"x<!y & z","initial_cid_num":"q2_z","initial_ip_addr":"","initial_dest":"9999","initial_dialplan":"xml","initial_context":"default"}]}`],
  ["show channels as xml", `<result row_count="2">
  <row row_id="1">
    <uuid>UUID1</uuid>
    <direction>outbound</direction>
    <created>DATE</created>
    <created_epoch>EPOCH</created_epoch>
    <name>loopback/9999-a</name>
    <state>CS_EXECUTE</state>
    <cid_name>Outbound Call</cid_name>
    <cid_num>default</cid_num>
    <ip_addr></ip_addr>
    <dest>9999</dest>
    <application>park</application>
    <application_data></application_data>
    <dialplan>xml</dialplan>
    <context>default</context>
    <read_codec>L16</read_codec>
    <read_rate>8000</read_rate>
    <read_bit_rate>128000</read_bit_rate>
    <write_codec>L16</write_codec>
    <write_rate>8000</write_rate>
    <write_bit_rate>128000</write_bit_rate>
    <secure></secure>
    <hostname>vm</hostname>
    <presence_id></presence_id>
    <presence_data></presence_data>
    <accountcode></accountcode>
    <callstate>ACTIVE</callstate>
    <callee_name>x<!y & z</callee_name>
    <callee_num>q2_z</callee_num>
    <callee_direction>RECV</callee_direction>
    <call_uuid>UUID1</call_uuid>
    <sent_callee_name></sent_callee_name>
    <sent_callee_num></sent_callee_num>
    <initial_cid_name>x<!y & z</initial_cid_name>
    <initial_cid_num>q2_z</initial_cid_num>
    <initial_ip_addr></initial_ip_addr>
    <initial_dest>9999</initial_dest>
    <initial_dialplan>xml</initial_dialplan>
    <initial_context>default</initial_context>
  </row>
  <row row_id="2">
    <uuid>UUID2</uuid>
    <direction>inbound</direction>
    <created>DATE</created>
    <created_epoch>EPOCH</created_epoch>
    <name>loopback/9999-b</name>
    <state>CS_EXECUTE</state>
    <cid_name>x<!y & z</cid_name>
    <cid_num>q2_z</cid_num>
    <ip_addr></ip_addr>
    <dest>9999</dest>
    <application>playback</application>
    <application_data>tone_stream://%(1000,0,440);loops=-1</application_data>
    <dialplan>xml</dialplan>
    <context>default</context>
    <read_codec>L16</read_codec>
    <read_rate>8000</read_rate>
    <read_bit_rate>128000</read_bit_rate>
    <write_codec>L16</write_codec>
    <write_rate>8000</write_rate>
    <write_bit_rate>128000</write_bit_rate>
    <secure></secure>
    <hostname>vm</hostname>
    <presence_id></presence_id>
    <presence_data></presence_data>
    <accountcode></accountcode>
    <callstate>ACTIVE</callstate>
    <callee_name>Outbound Call</callee_name>
    <callee_num>default</callee_num>
    <callee_direction></callee_direction>
    <call_uuid></call_uuid>
    <sent_callee_name></sent_callee_name>
    <sent_callee_num></sent_callee_num>
    <initial_cid_name>x<!y & z</initial_cid_name>
    <initial_cid_num>q2_z</initial_cid_num>
    <initial_ip_addr></initial_ip_addr>
    <initial_dest>9999</initial_dest>
    <initial_dialplan>xml</initial_dialplan>
    <initial_context>default</initial_context>
  </row>
</result>
`],
];

test('show splits its argument like switch_separate_string: quotes, escapes, ^^ separator, delim choice; <! passes raw into xml', { timeout: 20_000 }, async (t) => {
  const { sim, api, bytes } = await start(t);
  await originatePark(sim, api, `{origination_caller_id_name='x<!y & z',origination_caller_id_number=q2_z}loopback/9999/default`);
  for (const [cmd, expected] of PARSE) assert.equal(await api(cmd), expected, cmd);
  const csv = await api('show channels');
  const header = csv.split('\n')[0]!.split(',');
  // Header line and total length (bytes on the reference server) for each separator.
  const delims: Array<[string, string, number]> = [
    ['show channels as delim a b', 'a', 1020],
    ["show channels as delim '", "'", 1020],
    ["show channels as delim 'a b' c", 'a b', 1242],
    ['show channels as delim \\s', ' ', 1020],
    ['show channels as delim \\\\', '\\', 1020],
    ['show channels as delim \\x', '\\x', 1131],
    ["show channels as delim \\'", "'", 1020],
    ['show ^^;channels;as;delim;\\;', ';', 1020],
    ['show channels like 9999 as csv x', 'as', 1131],
    ['show calls as delim', ',', 889],
    ['show detailed_calls as delim !', '!', 1354],
  ];
  for (const [cmd, sep, length] of delims) {
    const body = await api(cmd);
    if (cmd.includes('channels')) assert.equal(body.split('\n')[0], header.join(sep), cmd);
    assert.equal(await bytes(cmd), length, cmd);
  }
  assert.equal(await api('show channels as csv'), csv);
  assert.equal(await api('show channels as delim'), csv);
  assert.equal(await api('show ^^,channels,as,xml'), await api('show channels as xml'));
  assert.equal(await api('show channels   count'), '\n2 total.\n');
  assert.equal(await api('show channels as XML'), await api('show channels as xml'));
  // cid_num q2_z (no hex digit string of a uuid can match it): LIKE's _ matches any one
  // character; a backslash does not escape it.
  assert.deepEqual(uuidsOf(await api('show channels like q2_z')), ['UUID2']);
  assert.deepEqual(uuidsOf(await api('show channels like q%z')), ['UUID2']);
  assert.deepEqual(uuidsOf(await api('show channels like x<!y')), ['UUID2']);
  assert.deepEqual(uuidsOf(await api('show channels like q2z')), []);
  assert.deepEqual(uuidsOf(await api('show channels like q2\\_z')), []);
  // ' and ; in the match become spaces (both rows have a space in cid_name).
  assert.deepEqual(uuidsOf(await api('show channels like ;')), ['UUID1', 'UUID2']);
  assert.deepEqual(uuidsOf(await api("show channels like ' '")), ['UUID1', 'UUID2']);
  assert.equal(await api('show channels count as bogus'), '-ERR Cannot find format bogus\n');
  assert.equal(await api('show calls count as xml'), '<result row_count="2"></result>\n');
  assert.equal(await api('show bridged_calls as xml'), '<result row_count="0"/>\n');
});

/** A CSV answer as objects, one per data row. */
function rowsOf(csv: string): Array<Record<string, string>> {
  // The only value with a comma in these calls: 9999's tone, in application_data.
  const lines = csv.replaceAll('tone_stream://%(1000,0,440);loops=-1', 'TONE').split('\n');
  const header = lines[0]!.split(',');
  return lines.slice(1, -3).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i]!, v])));
}

test('show calls, bridged_calls, detailed_calls after originate … &bridge(loopback/9999/default): one row per bridge, unbridged legs first', { timeout: 20_000 }, async (t) => {
  const { sim, api } = await start(t);
  const bridged = sim.waitForEvent((e) => e.name === 'CHANNEL_BRIDGE');
  let tones = 0;
  sim.on('event', (e) => {
    if (e.name === 'CHANNEL_EXECUTE' && e.get('Application') === 'playback') tones++;
  });
  assert.equal(await api('originate loopback/9999/default &bridge(loopback/9999/default)'), '+OK UUID1\n');
  await bridged;
  while (tones < 2) await new Promise((r) => setTimeout(r, 5));
  // As on the reference server: 9999-a (UUID1, runs bridge), 9999-b, the bridged 9999-a (UUID3), its 9999-b.
  const channels = rowsOf(await api('show channels'));
  assert.deepEqual(channels.map((r) => [r['uuid'], r['name'], r['call_uuid']]), [
    ['UUID1', 'loopback/9999-a', 'UUID1'],
    ['UUID2', 'loopback/9999-b', ''],
    ['UUID3', 'loopback/9999-a', 'UUID1'], // CHANNEL_BRIDGE gives both legs the A leg's call uuid
    ['UUID4', 'loopback/9999-b', ''],
  ]);
  const calls = await api('show calls');
  // order by call_created_epoch: NULL (no bridge) first; the callee UUID3 has no row of its own.
  assert.deepEqual(uuidsOf(calls), ['UUID2', 'UUID4', 'UUID1']);
  const [b2, b4, b1] = rowsOf(calls);
  for (const row of [b2!, b4!]) assert.ok(Object.entries(row).every(([k, v]) => !k.startsWith('b_') || v === ''));
  assert.equal(b2!['call_created_epoch'], '');
  assert.deepEqual(
    ['call_uuid', 'b_uuid', 'b_direction', 'b_name', 'b_cid_name', 'b_dest', 'b_callstate', 'b_callee_name', 'call_created_epoch'].map((k) => b1![k]),
    ['UUID1', 'UUID3', 'outbound', 'loopback/9999-a', 'Outbound Call', '9999', 'ACTIVE', 'Outbound Call', 'EPOCH'],
  );
  assert.equal(await api('show calls count'), '\n3 total.\n');
  assert.equal(await api('show channels count'), '\n4 total.\n');
  assert.deepEqual(uuidsOf(await api('show bridged_calls')), ['UUID1']);
  // detailed_calls orders by created_epoch and adds the application/codec columns for both legs.
  const detailed = rowsOf(await api('show detailed_calls'));
  assert.deepEqual(detailed.map((r) => [r['uuid'], r['application'], r['b_uuid'], r['b_call_uuid']]), [
    ['UUID1', 'bridge', 'UUID3', 'UUID1'],
    ['UUID2', 'playback', '', ''],
    ['UUID4', 'playback', '', ''],
  ]);
  const json = JSON.parse(await api('show detailed_bridged_calls as json')) as { row_count: number; rows: Array<Record<string, string>> };
  assert.equal(json.row_count, 1);
  assert.equal(json.rows[0]!['application_data'], 'loopback/9999/default');
  assert.match(await api('show bridged_calls as xml'), /^<result row_count="1">\n {2}<row row_id="1">\n {4}<uuid>UUID1<\/uuid>\n/);
});

// The reference server can only keep a caller after its bridge with park_after_bridge, which the
// simulator lacks; this follows switch_core_sqldb.c (CHANNEL_UNBRIDGE and CHANNEL_DESTROY drop the calls row).
test('when the bridged leg hangs up the calls row goes: both legs of the caller list again, with empty b_ columns', { timeout: 20_000 }, async (t) => {
  const { sim, api } = await start(t, { '5000': { actions: ['bridge loopback/9999/default', 'park'], dpMatch: false } });
  const bridge = sim.waitForEvent((e) => e.name === 'CHANNEL_BRIDGE');
  assert.equal(await api('originate loopback/5000/default &park'), '+OK UUID1\n');
  const ev = await bridge;
  // 5000-a (UUID1, parked), 5000-b (UUID2, bridging), 9999-a (UUID3, bridged), 9999-b (UUID4).
  assert.deepEqual(uuidsOf(await api('show channels')), ['UUID1', 'UUID2', 'UUID3', 'UUID4']);
  assert.deepEqual(uuidsOf(await api('show bridged_calls')), ['UUID2']);
  // CHANNEL_BRIDGE wrote the B leg's call_uuid (no CHANNEL_ORIGINATE had) and gave it to its callee.
  assert.deepEqual(rowsOf(await api('show channels')).map((r) => r['call_uuid']), ['UUID1', 'UUID2', 'UUID2', '']);
  const parkedAgain = sim.waitForEvent((e) => e.name === 'CHANNEL_EXECUTE' && e.get('Application') === 'park' && e.get('Unique-ID') === ev.get('Bridge-A-Unique-ID'));
  let destroyed = 0;
  sim.on('event', (e) => {
    if (e.name === 'CHANNEL_DESTROY') destroyed++;
  });
  await api(`uuid_kill ${ev.get('Bridge-B-Unique-ID')!}`);
  await parkedAgain;
  while (destroyed < 2) await new Promise((r) => setTimeout(r, 5));
  const calls = await api('show calls');
  assert.deepEqual(uuidsOf(calls), ['UUID1', 'UUID2']);
  assert.deepEqual(rowsOf(calls).map((r) => [r['call_uuid'], r['b_uuid'], r['call_created_epoch']]), [['UUID1', '', ''], ['UUID2', '', '']]);
  assert.equal(await api('show bridged_calls'), '\n0 total.\n');
  assert.equal(await api('show calls count as json'), '{"row_count":2,"rows":[]}');
});
