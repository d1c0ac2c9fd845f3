/**
 * How fleet code reaches Redis: ioredis (BullMQ's own driver) for BullMQ's connections, set once per process,
 * and for our own keys (run manifests, job tracking, INFO). Every Queue, Worker and QueueEvents takes `{ url }`
 * and owns — and closes — its connections.
 */
import { Redis } from "ioredis";
import { RedisConnection, createIORedisClient, type ConnectionOptions } from "bullmq";

/** Which driver this process uses (for logs and /healthz). */
export const redisDriver = "ioredis";

/** Installs the factory (idempotent); returns the connection options for BullMQ. */
export async function redisConnection(url: string): Promise<ConnectionOptions> {
  RedisConnection.clientFactory = (opts: Record<string, unknown>) =>
    createIORedisClient(new Redis(String(opts["url"] ?? url), { maxRetriesPerRequest: null }) as never);
  return { url } as ConnectionOptions;
}

/** A reply as fleet code reads it: strings, integers, nil and arrays of them. */
export type RedisReply = string | number | null | RedisReply[];

/**
 * One plain connection for our own commands: `send(command, args)` over ioredis's `call`. It reconnects by
 * itself (ioredis retries with backoff); `connected` says whether it is up now.
 */
export class RedisCommands {
  private readonly r: Redis;
  constructor(url: string) {
    this.r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null, enableOfflineQueue: true });
    this.r.on("error", () => undefined); // reported through the failing command; ioredis reconnects
  }
  get connected(): boolean {
    return this.r.status === "ready";
  }
  async connect(): Promise<void> {
    if (this.r.status === "wait" || this.r.status === "end") await this.r.connect();
  }
  send(command: string, args: ReadonlyArray<string | number>): Promise<RedisReply> {
    return this.r.call(command, ...args.map(String)) as Promise<RedisReply>;
  }
  close(): void {
    this.r.disconnect();
  }
}

/** One plain connection for our own keys (run manifests, INFO); close with `.close()`. */
export async function redisClient(url: string): Promise<RedisCommands> {
  const c = new RedisCommands(url);
  await c.connect();
  return c;
}
