/** FreeSWITCH's log levels (switch_log_level_t): the names, by number, that `log` and Log-Level use. */

/** Level names by number: 0 CONSOLE … 7 DEBUG (switch_log.c LEVELS, without its leading DISABLE). */
export const LOG_LEVEL_NAMES = ['CONSOLE', 'ALERT', 'CRIT', 'ERR', 'WARNING', 'NOTICE', 'INFO', 'DEBUG'] as const;

/** SWITCH_LOG_INVALID: what switch_log_str2level gives for a name it does not know. */
export const LOG_LEVEL_INVALID = 64;

/**
 * switch_log_str2level (switch_log.c, v1.10.12): a number (negative as 0, above 64 as 63), or a level name in
 * any case, where DISABLE is -1. Undefined for anything else (FreeSWITCH's SWITCH_LOG_INVALID).
 */
export function logLevelFromText(text: string): number | undefined {
  // switch_is_number: an optional sign, then only digits and dots; atoi reads the leading digits.
  if (/^[-+]?[\d.]*$/.test(text)) {
    const x = Number.parseInt(text, 10) || 0;
    // 64 itself is SWITCH_LOG_INVALID, which callers refuse.
    if (x === LOG_LEVEL_INVALID) return undefined;
    return x > LOG_LEVEL_INVALID ? LOG_LEVEL_INVALID - 1 : x < 0 ? 0 : x;
  }
  const upper = text.toUpperCase();
  if (upper === 'DISABLE') return -1;
  const i = (LOG_LEVEL_NAMES as readonly string[]).indexOf(upper);
  return i === -1 ? undefined : i;
}
