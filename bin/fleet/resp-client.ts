/**
 * A minimal Redis connection (RESP2 over TCP) shaped like Bun's built-in RedisClient — `send(command, args)`,
 * `connect()`, `close()`, `connected`, `onconnect`/`onclose`, `duplicate()` — so that BullMQ's own maintained
 * Bun adapter (`createBunRedisClient`) maps every IRedisClient call BullMQ makes onto it, reconnection included.
 *
 * Why by hand: BullMQ 6 takes its Redis driver as an optional peer dependency (ioredis or node-redis), and
 * neither is installed in this project; bin/fleet/redis.ts uses ioredis whenever it can be imported and this
 * only otherwise. It does one thing: ordered request/reply on one socket. No pub/sub, no cluster, no RESP3.
 */
import { connect as netConnect, type Socket } from "node:net";
import { FusiondError } from "../../schemas/index.ts";

export type RespValue = string | number | null | Error | RespValue[];

interface Pending {
  resolve: (v: RespValue) => void;
  reject: (e: Error) => void;
}

/** Parses one RESP2 reply at `at`; undefined when the buffer does not hold all of it yet. */
export function parseReply(buf: Buffer, at: number): { value: RespValue; next: number } | undefined {
  if (at >= buf.length) return undefined;
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const type = buf[at];
  const line = buf.toString("utf8", at + 1, eol);
  const after = eol + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, next: after };
    case 0x2d: // -
      return { value: new Error(line), next: after };
    case 0x3a: // :
      return { value: Number(line), next: after };
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      if (buf.length < after + n + 2) return undefined;
      return { value: buf.toString("utf8", after, after + n), next: after + n + 2 };
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      const items: RespValue[] = [];
      let pos = after;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, pos);
        if (!r) return undefined;
        items.push(r.value);
        pos = r.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new FusiondError("redis_protocol", `unexpected reply type byte ${type} from Redis (is this a Redis server?)`);
  }
}

/** One command as RESP2 bytes: an array of bulk strings. */
export function encodeCommand(command: string, args: readonly unknown[]): Buffer {
  const flat: Buffer[] = [];
  const add = (a: unknown): void => {
    if (Array.isArray(a)) for (const x of a) add(x);
    else flat.push(Buffer.isBuffer(a) ? a : a instanceof Uint8Array ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : Buffer.from(a === undefined || a === null ? "" : String(a)));
  };
  add(command);
  for (const a of args) add(a);
  const parts: Buffer[] = [Buffer.from(`*${flat.length}\r\n`)];
  for (const b of flat) parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  return Buffer.concat(parts);
}

export class RespClient {
  connected = false;
  onconnect: (() => void) | undefined;
  onclose: ((err?: Error) => void) | undefined;
  onerror: ((err: Error) => void) | undefined;
  private socket: Socket | undefined;
  private readonly pending: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private lastError: Error | undefined;

  constructor(readonly url: string) {}

  /** Opens the socket, authenticates and selects the database the URL names. */
  connect(): Promise<void> {
    const u = new URL(this.url);
    if (u.protocol !== "redis:") throw new FusiondError("bad_redis_url", `--redis takes redis://HOST:PORT[/DB], not "${this.url}" (TLS needs ioredis installed)`);
    return new Promise<void>((resolve, reject) => {
      const socket = netConnect({ host: u.hostname || "127.0.0.1", port: Number(u.port || 6379) });
      this.socket = socket;
      this.lastError = undefined;
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      let opened = false;
      socket.on("data", (chunk: Buffer) => this.onData(chunk));
      socket.on("error", (err) => (this.lastError = err));
      socket.on("close", () => {
        this.connected = false;
        this.socket = undefined;
        this.buf = Buffer.alloc(0);
        const err = new Error(`Connection closed${this.lastError ? `: ${this.lastError.message}` : ""}`);
        for (const p of this.pending.splice(0)) p.reject(err);
        if (!opened) reject(this.lastError ?? err);
        this.onclose?.(this.lastError);
      });
      socket.once("connect", () => {
        void (async () => {
          if (u.password) await this.raw("AUTH", u.username ? [decodeURIComponent(u.username), decodeURIComponent(u.password)] : [decodeURIComponent(u.password)]);
          const db = u.pathname.replace(/^\//, "");
          if (db) await this.raw("SELECT", [db]);
        })().then(
          () => {
            opened = true;
            this.connected = true;
            resolve();
            this.onconnect?.();
          },
          (err: Error) => {
            reject(err);
            socket.destroy();
          },
        );
      });
    });
  }

  /** Sends a command; resolves with its reply (an error reply rejects). */
  send(command: string, args: readonly unknown[]): Promise<RespValue> {
    if (!this.connected) return Promise.reject(new Error("Connection closed"));
    return this.raw(command, args);
  }

  private raw(command: string, args: readonly unknown[]): Promise<RespValue> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new Error("Connection closed"));
    return new Promise<RespValue>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      socket.write(encodeCommand(command, args));
    });
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let at = 0;
    for (;;) {
      let r: ReturnType<typeof parseReply>;
      try {
        r = parseReply(this.buf, at);
      } catch (err) {
        this.lastError = err as Error;
        this.socket?.destroy();
        return;
      }
      if (!r) break;
      at = r.next;
      const p = this.pending.shift();
      if (r.value instanceof Error) p?.reject(r.value);
      else p?.resolve(r.value);
    }
    this.buf = at >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at);
  }

  close(): void {
    this.socket?.destroy();
  }

  /** A new, unconnected client to the same server. */
  async duplicate(): Promise<RespClient> {
    return new RespClient(this.url);
  }
}
