/**
 * The ZAP handler (ZeroMQ RFC 27) that enforces CURVE allow-lists: a Router bound to
 * inproc://zeromq.zap.01 in zeromq.js's default context, which libzmq asks about every CURVE
 * handshake on every socket of that context. Without it any client with a key pair gets in.
 *
 * There is one such endpoint per context, so one handler serves every serving socket of the
 * process: each registers a ZAP domain with its allow-list. A CURVE server without a domain (ours
 * always set one) is let through, as libzmq would without a handler. The handler runs while at
 * least one domain is registered. Written by hand: zeromq.js has no ZAP helper (pyzmq's
 * ThreadAuthenticator and CZMQ's zauth are the equivalents), and the protocol is eight frames.
 */
import { Router } from "zeromq";
import { z85Encode, type ZapDenial } from "./zmq-curve.ts";

export const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

interface Domain {
  allow: ReadonlySet<string> | undefined;
  onDenied: ((d: ZapDenial) => void) | undefined;
}

const domains = new Map<string, Domain>();
let router: Router | undefined;
let loopDone: Promise<void> | undefined;
/** Starting and stopping are chained so a register never races a close of the same endpoint. */
let chain: Promise<void> = Promise.resolve();
let nextDomain = 1;

/** Counts, for tests and metrics: handshakes answered. */
export const zapCounters = { allowed: 0, denied: 0 };

/**
 * Registers an allow-list (Z85 public keys; undefined = any CURVE client) and returns the ZAP domain
 * to set on the serving socket (`zapDomain`), with a function that withdraws it. The handler is bound
 * before this resolves, so a socket bound afterwards is never served unchecked.
 */
export function registerZapDomain(allow: readonly string[] | undefined, onDenied?: (d: ZapDenial) => void): Promise<{ domain: string; release: () => Promise<void> }> {
  const domain = `fusiond-${process.pid}-${nextDomain++}`;
  domains.set(domain, { allow: allow ? new Set(allow) : undefined, onDenied });
  let released = false;
  const release = (): Promise<void> => {
    if (released) return chain;
    released = true;
    domains.delete(domain);
    const stopped = chain.then(async () => {
      if (domains.size > 0 || !router) return;
      const r = router;
      router = undefined;
      r.close();
      await loopDone;
    });
    chain = stopped.catch(() => undefined);
    return chain;
  };
  const started = chain.then(async () => {
    if (router || !domains.has(domain)) return;
    // A handler closed a moment ago may still hold the inproc endpoint (libzmq unbinds asynchronously): retry
    // "in use" for up to a second before calling it another handler's.
    let r = new Router({ linger: 0 });
    for (let attempt = 0; ; attempt++) {
      try {
        await r.bind(ZAP_ENDPOINT);
        break;
      } catch (err) {
        r.close();
        if (!/in use/i.test((err as Error).message) || attempt >= 50) {
          throw new Error(`cannot start the ZeroMQ ZAP handler on ${ZAP_ENDPOINT} (${(err as Error).message}): is another ZAP handler bound in this process?`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
        r = new Router({ linger: 0 });
      }
    }
    router = r;
    loopDone = serve(r);
  });
  chain = started.catch(() => undefined);
  return started.then(
    () => ({ domain, release }),
    (err: unknown) => {
      domains.delete(domain);
      throw err;
    },
  );
}

async function serve(r: Router): Promise<void> {
  try {
    for await (const frames of r) {
      // [routing id, empty, version, request id, domain, address, identity, mechanism, credentials...]
      const [id, empty, version, requestId, domainF, address, , mechanism, ...credentials] = frames;
      if (!id || !empty || !requestId) continue;
      const answer = decide(version?.toString() ?? "", domainF?.toString() ?? "", address?.toString() ?? "", mechanism?.toString() ?? "", credentials);
      await r.send([id, empty, "1.0", requestId, answer.status, answer.text, answer.userId, ""]);
    }
  } catch {
    // the socket was closed: nothing more to answer
  }
}

function decide(version: string, domainName: string, address: string, mechanism: string, credentials: Buffer[]): { status: string; text: string; userId: string } {
  if (version !== "1.0") return { status: "400", text: "unsupported ZAP version", userId: "" };
  const domain = domains.get(domainName);
  const clientKey = mechanism === "CURVE" && credentials[0]?.length === 32 ? z85Encode(credentials[0]) : "";
  const deny = (reason: string): { status: string; text: string; userId: string } => {
    zapCounters.denied++;
    try {
      domain?.onDenied?.({ clientKey, address, reason });
    } catch {
      // a listener's failure must not stop the handler answering
    }
    return { status: "400", text: reason, userId: "" };
  };
  if (domain === undefined) {
    // A socket that set no domain (not one of ours) or one already withdrawn (a socket closing).
    if (domainName !== "") return deny("unknown ZAP domain");
    zapCounters.allowed++;
    return { status: "200", text: "OK", userId: clientKey };
  }
  if (mechanism !== "CURVE") return deny(`CURVE required, got ${mechanism || "no mechanism"}`);
  if (domain.allow && !domain.allow.has(clientKey)) return deny("client public key not in the allow-list");
  zapCounters.allowed++;
  return { status: "200", text: "OK", userId: clientKey };
}
