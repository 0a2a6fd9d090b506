/**
 * DNS-rebinding guard for a server without a dashboard token. A page on attacker.example can make
 * its name resolve to 127.0.0.1 and then read this dashboard as "same origin"; the only thing that
 * gives it away is the Host header, which still says attacker.example. So without a token only
 * loopback names, the bind address and the hosts of ALLOWED_ORIGINS are served. With a token the
 * attacker's page has neither the token nor the (SameSite=Strict) session cookie, so no check.
 */

const WILDCARD_BINDS = new Set(["0.0.0.0", "::", "[::]"]);

/** `hostHeader` → true when it may be served; a request without Host (not a browser) passes. */
export type HostCheck = (hostHeader: string | undefined) => boolean;

export function createHostCheck(options: { bindHost: string; allowedOrigins: readonly string[] }): HostCheck {
  const allowed = new Set<string>();
  const bind = normaliseHostname(options.bindHost);
  if (!WILDCARD_BINDS.has(options.bindHost) && bind) allowed.add(bind.includes(":") && !bind.startsWith("[") ? `[${bind}]` : bind);
  for (const entry of options.allowedOrigins) {
    const host = originHostname(entry);
    if (host) allowed.add(host);
  }
  return (hostHeader) => {
    if (hostHeader === undefined) return true;
    const hostname = hostnameOf(hostHeader);
    return hostname !== null && (isLoopbackName(hostname) || allowed.has(hostname));
  };
}

function isLoopbackName(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** The hostname of a Host header value (`name`, `name:port`, `[v6]:port`), lower-cased; null when malformed. */
export function hostnameOf(hostHeader: string): string | null {
  const value = hostHeader.trim().toLowerCase();
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    if (end < 0 || !/^(:\d{1,5})?$/.test(value.slice(end + 1))) return null;
    return value.slice(0, end + 1);
  }
  const match = /^([a-z0-9._-]+)(:\d{1,5})?$/.exec(value);
  return match ? normaliseHostname(match[1]!) : null;
}

function normaliseHostname(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, "");
}

/** An ALLOWED_ORIGINS entry is an origin (`https://dash.example.com`) or a bare host name. */
function originHostname(entry: string): string | null {
  let hostname = "";
  try {
    hostname = normaliseHostname(new URL(entry).hostname);
  } catch {
    // not a URL: a bare host name
  }
  return hostname || hostnameOf(entry);
}
