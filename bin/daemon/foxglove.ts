/**
 * Live view: the Foxglove WebSocket protocol (@foxglove/ws-protocol over ws), so that Foxglove shows
 * the camera, GNSS on a map, radar, decisions and sensor health while the daemon runs. One channel per
 * topic, created on first use, protobuf with the codec's FileDescriptorSet (the same schema records as
 * our MCAP files); health as JSON. Messages are only serialised for channels a client subscribed to.
 * A browser page may only connect from an allowed Origin (403 otherwise: another site open in the
 * operator's browser must not read the vehicle's cameras); with a token, every client must present it (401).
 */
import wsProtocol from "@foxglove/ws-protocol";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { Logger } from "pino";
import type { DaemonConfig } from "../../pipeline/daemon-config.ts";
import { bearerCheck } from "./bearer.ts";
import { hostPort } from "./http.ts";
import type { ProtoCodec } from "../../schemas/index.ts";

// The package's "main" is CommonJS (its ESM build has no "exports" map Node would use): take the class off the default export.
const { FoxgloveServer } = wsProtocol;
type FoxgloveServer = InstanceType<typeof FoxgloveServer>;

export const HEALTH_TOPIC = "/fusiond/health";

export interface LiveViewOptions {
  host: string;
  port: number;
  codec: ProtoCodec;
  name?: string;
  /** Bearer token: `Authorization: Bearer T`, or `?token=T` in the URL (browsers cannot set headers). */
  token?: string;
  /** Origins allowed besides none (non-browser clients) and loopback ones, e.g. "https://app.foxglove.dev". */
  allowedOrigins?: readonly string[];
}

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Whether a WebSocket's Origin header may connect: none, a loopback origin, or one of `allowed` (exact, case-insensitive). */
export function originAllowed(origin: string | undefined, allowed: readonly string[] = []): boolean {
  if (origin === undefined || origin === "") return true;
  const o = origin.toLowerCase().replace(/\/$/, "");
  if (allowed.some((a) => a.toLowerCase().replace(/\/$/, "") === o)) return true;
  try {
    const u = new URL(o);
    return (u.protocol === "http:" || u.protocol === "https:") && LOOPBACK_HOST.test(u.hostname);
  } catch {
    return false;
  }
}

export class FoxgloveLiveView {
  private readonly channels = new Map<string, number>();
  private readonly subscribed = new Map<number, number>();
  private constructor(
    private readonly http: Server,
    private readonly wss: WebSocketServer,
    private readonly server: FoxgloveServer,
    private readonly codec: ProtoCodec,
    readonly url: string,
  ) {
    server.on("subscribe", (id) => this.subscribed.set(id, (this.subscribed.get(id) ?? 0) + 1));
    server.on("unsubscribe", (id) => {
      const n = (this.subscribed.get(id) ?? 1) - 1;
      if (n > 0) this.subscribed.set(id, n);
      else this.subscribed.delete(id);
    });
    server.on("error", () => {}); // a misbehaving client must not take the daemon down
  }

  static async start(o: LiveViewOptions): Promise<FoxgloveLiveView> {
    const server = new FoxgloveServer({ name: o.name ?? "fusiond" });
    const http = createServer((_req, res) => res.writeHead(426, { "content-type": "text/plain" }).end("fusiond live view: connect with Foxglove (WebSocket)\n"));
    const authorised = bearerCheck(o.token, { allowQuery: true });
    const wss = new WebSocketServer({
      server: http,
      handleProtocols: (protocols) => server.handleProtocols(protocols),
      verifyClient: (info, done) => {
        if (!originAllowed(info.origin || undefined, o.allowedOrigins)) return done(false, 403, "origin not allowed: add it to foxglove.allowedOrigins (--foxglove-origin)");
        if (!authorised(info.req)) return done(false, 401, "unauthorised: send the live view's token (Authorization: Bearer TOKEN, or ?token=TOKEN)", { "www-authenticate": 'Bearer realm="fusiond"' });
        done(true);
      },
    });
    wss.on("connection", (conn, req) => server.handleConnection(conn, `${req.socket.remoteAddress}:${req.socket.remotePort}`));
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(o.port, o.host, () => resolve());
    });
    const a = http.address() as AddressInfo;
    return new FoxgloveLiveView(http, wss, server, o.codec, `ws://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`);
  }

  /** Number of clients' subscriptions across channels (for tests and status). */
  get subscriptions(): number {
    let n = 0;
    for (const v of this.subscribed.values()) n += v;
    return n;
  }

  private channel(topic: string, encoding: "protobuf" | "json", schemaName: string): number {
    let id = this.channels.get(topic);
    if (id === undefined) {
      const schema =
        encoding === "protobuf"
          ? Buffer.from(this.codec.fileDescriptorSet(schemaName)).toString("base64")
          : JSON.stringify({ type: "object", title: schemaName });
      id = this.server.addChannel({ topic, encoding, schemaName, schema, schemaEncoding: encoding === "protobuf" ? "protobuf" : "jsonschema" });
      this.channels.set(topic, id);
    }
    return id;
  }

  /** Protobuf bytes of `type` on `topic`, stamped with the event time (ns). */
  publish(topic: string, type: string, bytes: Uint8Array, stampNs: bigint): void {
    const id = this.channel(topic, "protobuf", type);
    if (this.subscribed.has(id)) this.server.sendMessage(id, stampNs, bytes);
  }

  /** A JSON value on `topic` (health, status). */
  publishJson(topic: string, schemaName: string, value: unknown, stampNs: bigint): void {
    const id = this.channel(topic, "json", schemaName);
    if (!this.subscribed.has(id)) return;
    const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    this.server.sendMessage(id, stampNs, new TextEncoder().encode(text));
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }
}

/** The daemon's live view at config.foxglove (its token and allowed origins), its URL logged. */
export async function openLiveView(c: NonNullable<DaemonConfig["foxglove"]>, codec: ProtoCodec, vehicle: string, logger: Logger): Promise<FoxgloveLiveView> {
  const live = await FoxgloveLiveView.start({ ...hostPort(c.listen), codec, name: `fusiond ${vehicle}`, ...(c.token ? { token: c.token } : {}), ...(c.allowedOrigins ? { allowedOrigins: c.allowedOrigins } : {}) });
  logger.info({ url: live.url }, "Foxglove live view (open a Foxglove WebSocket connection to this URL)");
  return live;
}
