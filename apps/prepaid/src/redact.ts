/**
 * Credentials must never reach a log line, an error message or the terminal: CouchDB URLs carry
 * `user:password@`, and node-fetch puts the full request URL into its error messages.
 */

const USERINFO_IN_URL = /([a-z][a-z0-9+.-]*:\/\/)([^/?#@\s]*)@/gi;

/** `http://admin:secret@host:5984/db` → `http://admin:***@host:5984/db` (user kept, password hidden). */
export function redactUrl(url: string): string {
  return redactText(url);
}

/** Hide the password of every `scheme://user:pass@` in a free text (error messages, stack traces). */
export function redactText(text: string): string {
  return text.replace(USERINFO_IN_URL, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    return `${scheme}${user}:***@`;
  });
}

/** A short, redacted description of any thrown value, for logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const prefix = typeof code === 'string' ? `${code}: ` : '';
    return redactText(prefix + err.message);
  }
  return redactText(String(err));
}
