/** Where the `socket` application connects (MES socket_function: `<host>[:port] [async] [full]`). */
export interface SocketTarget {
  host?: string;
  port: number;
  /** `async` mode: the channel parks and commands run in their own thread. Default true. */
  async?: boolean;
  /** `full`: every command is allowed (api, event, …). Default true. */
  full?: boolean;
}

/**
 * Script of a simulated far end (what the called party does). Times are real milliseconds
 * (not scaled by `timeScale`).
 */
export interface FarEndScript {
  /** Answer after this many ms (default 0). */
  answerAfterMs?: number;
  /** Hang up this many ms after answering (NORMAL_CLEARING). */
  hangupAfterMs?: number;
  /** Reject as busy (USER_BUSY) after `answerAfterMs`. */
  busy?: boolean;
  /** Never answer: the originate/bridge fails with NO_ANSWER when its timeout expires. */
  noAnswer?: boolean;
  /** Reject with this cause (e.g. 'CALL_REJECTED') after `answerAfterMs`. */
  rejectCause?: string;
  /** Send early media (CHANNEL_PROGRESS_MEDIA) before answering. */
  earlyMedia?: boolean;
}

/** One dialplan extension: either a `socket` target or a list of applications to run. */
export interface DialplanEntry {
  /** Run `socket <target>`: a string like '127.0.0.1:8084 async full', or a target object. */
  socket?: string | SocketTarget;
  /** Applications in order: 'answer', 'playback foo.wav', or ['set', 'a=b']. Run after `socket` returns. */
  actions?: Array<string | readonly [app: string, arg?: string]>;
  /**
   * Set DP_MATCH (ARRAY::<dest>|:<dest>) as an XML condition with a capture group does
   * (`^(7001)$`, as in the outbound capture). Default true.
   */
  dpMatch?: boolean;
}

/** A user for `userauth user@domain:pass` (directory params esl-password, esl-allowed-*). */
export interface EslUser {
  password: string;
  /** esl-allowed-events: comma (or space) separated event names; CUSTOM makes later words subclasses. */
  allowedEvents?: string;
  /** esl-allowed-api: comma (or space) separated api command names. */
  allowedApi?: string;
  /** esl-allowed-log (default true). */
  allowedLog?: boolean;
}

export interface SimulatorOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Listen port; default 0 (OS-chosen; read `sim.port`). */
  port?: number;
  /** Inbound password (`auth <password>`); default 'ClueCon'. */
  password?: string;
  /** Users for `userauth`, keyed 'user@domain'. */
  users?: Record<string, EslUser>;
  /**
   * Inbound ACL allow-list: IPv4/IPv6 addresses or CIDR blocks ('127.0.0.1', '10.0.0.0/8').
   * Peers matching no entry get `text/rude-rejection` and are disconnected. Default: everyone allowed.
   */
  acl?: string[];
  /** FreeSWITCH-Hostname / Switchname; default 'sim'. */
  hostname?: string;
  switchname?: string;
  /** Core-UUID; default random. */
  coreUuid?: string;
  /** FreeSWITCH-IPv4 / -IPv6 header values; default 127.0.0.1 and ::1 (empty string omits the header). */
  ipv4?: string;
  ipv6?: string;
  /** Dialplan extensions keyed by destination number; '*' matches any other number. */
  dialplan?: Record<string, DialplanEntry>;
  /** Far-end scripts keyed by the dialled number (used by bridge/originate to non-loopback endpoints). */
  farEnds?: Record<string, FarEndScript>;
  /** HEARTBEAT event interval in ms; 0 (default) disables it. */
  heartbeatIntervalMs?: number;
  /** Time allowed for the first command on a connection (MES read_packet timeout 25 s). */
  firstCommandTimeoutMs?: number;
  /**
   * Multiplies simulated media durations (sleep, playback, digit timeouts, originate timeout). Default 1.
   * Scheduled tasks (sched_hangup) run on the wall clock: their times are epoch seconds (scheduler.ts).
   */
  timeScale?: number;
  /**
   * Length of a played file in ms (before `timeScale`) for files whose length cannot be derived from
   * their name (tone_stream/silence_stream lengths are computed). Number or per-file function. Default 1000.
   */
  playbackMs?: number | ((file: string) => number);
  /** Put variable_* on every channel event (verbose_events). Default false. */
  verboseEvents?: boolean;
  /** Version reported by `version`/`status`; default '1.10.12-release'. */
  version?: string;
  /**
   * FreeSWITCH's `sessions-per-second` (switch.conf.xml; 30 when unset, switch_core.c): each new
   * session takes one from a budget refilled to this every second, and one that finds it used up
   * fails (switch_core_session_request_uuid: "Throttle Error!"), so `originate` answers
   * `-ERR DESTINATION_OUT_OF_ORDER`. Since the check is "still above 0 after taking one", at most
   * `sessionsPerSecond - 1` sessions start per second; a loopback call takes two. `Infinity`: no limit.
   */
  sessionsPerSecond?: number;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  password: string;
  users: Record<string, EslUser>;
  acl: string[] | undefined;
  hostname: string;
  switchname: string;
  coreUuid: string;
  ipv4: string;
  ipv6: string;
  dialplan: Record<string, DialplanEntry>;
  farEnds: Record<string, FarEndScript>;
  heartbeatIntervalMs: number;
  firstCommandTimeoutMs: number;
  timeScale: number;
  playbackMs: (file: string) => number;
  verboseEvents: boolean;
  version: string;
  sessionsPerSecond: number;
}

/**
 * The extension the captures' server ran for 9999 (answer, then an endless 440 Hz tone), so the
 * capture scenario `originate loopback/9999/default &park` plays out the same way here.
 */
export const DEFAULT_DIALPLAN: Record<string, DialplanEntry> = {
  '9999': { actions: ['answer', 'playback tone_stream://%(1000,0,440);loops=-1'], dpMatch: false },
};
