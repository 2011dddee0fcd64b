/** Channel and call states with the numbers FreeSWITCH gives them (switch_types.h). */

/** Channel states (switch_channel_state_t) with their numbers, as in Channel-State-Number. */
export const CHANNEL_STATES = {
  CS_NEW: 0, CS_INIT: 1, CS_ROUTING: 2, CS_SOFT_EXECUTE: 3, CS_EXECUTE: 4, CS_EXCHANGE_MEDIA: 5, CS_PARK: 6,
  CS_CONSUME_MEDIA: 7, CS_HIBERNATE: 8, CS_RESET: 9, CS_HANGUP: 10, CS_REPORTING: 11, CS_DESTROY: 12, CS_NONE: 13,
} as const;
export type ChannelState = keyof typeof CHANNEL_STATES;

/** Call states (switch_channel_callstate_t) with their numbers, as in Channel-Call-State-Number. */
export const CALL_STATES = {
  DOWN: 0, DIALING: 1, RINGING: 2, EARLY: 3, ACTIVE: 4, HELD: 5, RING_WAIT: 6, HANGUP: 7, UNHELD: 8,
} as const;
export type CallState = keyof typeof CALL_STATES;
