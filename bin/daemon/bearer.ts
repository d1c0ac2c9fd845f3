/**
 * Bearer-token checks for the daemon's HTTP endpoints and the live view (RFC 6750). The comparison
 * takes the same time whatever the token sent (both sides hashed to 32 bytes, then timingSafeEqual),
 * so a wrong guess says nothing about how much of it was right.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** A checker for one token; undefined token = no check (every request passes). */
export function bearerCheck(token: string | undefined, options: { allowQuery?: boolean } = {}): (req: IncomingMessage) => boolean {
  if (!token) return () => true;
  const want = digest(token);
  return (req) => {
    const got = presented(req, options.allowQuery ?? false);
    return got !== undefined && timingSafeEqual(digest(got), want);
  };
}

/** The token in `Authorization: Bearer T`, or (where allowed: browsers cannot set headers on a WebSocket) `?token=T`. */
function presented(req: IncomingMessage, allowQuery: boolean): string | undefined {
  const header = req.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (m) return m[1];
  if (!allowQuery) return undefined;
  const q = (req.url ?? "").indexOf("?");
  if (q < 0) return undefined;
  return new URLSearchParams((req.url ?? "").slice(q + 1)).get("token") ?? undefined;
}

/** The 401 answer's headers (RFC 6750: a WWW-Authenticate challenge). */
export const UNAUTHORIZED_HEADERS = { "content-type": "text/plain", "www-authenticate": 'Bearer realm="fusiond"' } as const;
