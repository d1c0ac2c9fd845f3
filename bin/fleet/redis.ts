/**
 * How fleet code reaches Redis: BullMQ's connection factory, set once per process. ioredis when it can be
 * imported (BullMQ's default driver, an optional peer dependency); otherwise our RESP client under BullMQ's
 * own Bun adapter (resp-client.ts says why). Every Queue, Worker and QueueEvents then takes `{ url }` and
 * owns — and closes — its connections.
 */
import { RedisConnection, createBunRedisClient, createIORedisClient, type ConnectionOptions } from "bullmq";
import { RespClient } from "./resp-client.ts";

type Ctor = new (url: string, opts: Record<string, unknown>) => unknown;
let ioredis: Ctor | undefined | null = null;

async function loadIORedis(): Promise<Ctor | undefined> {
  if (ioredis !== null) return ioredis;
  try {
    const name = "ioredis";
    const mod = (await import(name)) as { default?: Ctor; Redis?: Ctor };
    ioredis = mod.Redis ?? mod.default;
  } catch {
    ioredis = undefined;
  }
  return ioredis;
}

/** Which driver this process uses (for logs and /healthz). */
export let redisDriver: "ioredis" | "resp" = "resp";

/** Installs the factory (idempotent); returns the connection options for BullMQ. */
export async function redisConnection(url: string): Promise<ConnectionOptions> {
  const IORedis = await loadIORedis();
  redisDriver = IORedis ? "ioredis" : "resp";
  RedisConnection.clientFactory = (opts: Record<string, unknown>) => {
    const u = String(opts["url"] ?? url);
    if (IORedis) return createIORedisClient(new IORedis(u, { maxRetriesPerRequest: null }) as never);
    return createBunRedisClient(new RespClient(u) as never);
  };
  return { url } as ConnectionOptions;
}

/** One plain connection for our own keys (run manifests, INFO); close with `.quit()`. */
export async function redisClient(url: string): Promise<RespClient> {
  const c = new RespClient(url);
  await c.connect();
  return c;
}
