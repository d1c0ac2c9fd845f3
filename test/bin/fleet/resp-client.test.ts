/** The small RESP2 client BullMQ runs on when ioredis is not installed: framing, errors, a real server. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Queue, Worker } from "bullmq";
import { encodeCommand, parseReply, RespClient, type RespValue } from "../../../bin/fleet/resp-client.ts";
import { redisConnection } from "../../../bin/fleet/redis.ts";
import { dropPrefix, testRedis, uniquePrefix, waitUntil, type OwnRedis } from "./helpers.ts";

/** RESP2 bytes of a reply value (the server's side), for round trips. */
function serialize(v: RespValue): string {
  if (v === null) return "$-1\r\n";
  if (v instanceof Error) return `-${v.message}\r\n`;
  if (typeof v === "number") return `:${v}\r\n`;
  if (typeof v === "string") return `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
  return `*${v.length}\r\n${v.map(serialize).join("")}`;
}

const value: fc.Arbitrary<RespValue> = fc.letrec<{ v: RespValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.array(tie("v"), { maxLength: 4 }),
  ),
})).v;

describe("fleet: RESP client", function () {
  this.timeout(60_000);

  it("parses any reply whole, and nothing from any strict prefix of it", () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = Buffer.from(serialize(v));
        const r = parseReply(bytes, 0);
        assert.deepEqual(r, { value: v, next: bytes.length });
        for (const cut of [1, Math.floor(bytes.length / 2), bytes.length - 1]) if (cut > 0 && cut < bytes.length) assert.equal(parseReply(bytes.subarray(0, cut), 0), undefined);
      }),
    );
  });

  it("error replies become Error values (inside arrays too, as EXEC returns them)", () => {
    const r = parseReply(Buffer.from("*2\r\n+OK\r\n-WRONGTYPE no\r\n"), 0)!;
    assert.equal((r.value as RespValue[])[0], "OK");
    assert.ok((r.value as RespValue[])[1] instanceof Error);
  });

  it("encodes commands as arrays of bulk strings, buffers byte for byte", () => {
    assert.equal(encodeCommand("SET", ["k", 12, Buffer.from([0xff, 0x00])]).toString("latin1"), "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n$2\r\n\xff\x00\r\n");
  });

  describe("against Redis", () => {
    let url: string;
    let own: OwnRedis | undefined;
    const prefix = uniquePrefix("resp");
    before(async () => ({ url, own } = await testRedis()));
    after(async () => {
      await dropPrefix(url, prefix);
      await own?.stop();
    });

    it("request/reply in order, pipelined, with large values; a closed connection rejects what is pending", async () => {
      const c = new RespClient(url);
      await c.connect();
      const big = "x".repeat(300_000);
      const replies = await Promise.all([c.send("SET", [`${prefix}:big`, big]), c.send("GET", [`${prefix}:big`]), c.send("INCR", [`${prefix}:n`]), c.send("GET", [`${prefix}:none`])]);
      assert.deepEqual(replies, ["OK", big, 1, null]);
      await assert.rejects(c.send("HGET", [`${prefix}:big`, "f"]), /WRONGTYPE/);
      const blocked = c.send("BLPOP", [`${prefix}:never`, 5]);
      c.close();
      await assert.rejects(blocked, /Connection closed/);
      await assert.rejects(c.send("PING", []), /Connection closed/);
    });

    it("carries a BullMQ queue and worker (through BullMQ's own adapter)", async () => {
      const connection = await redisConnection(url);
      const q = new Queue("t", { connection, prefix });
      const w = new Worker("t", async (job) => ({ twice: (job.data as { x: number }).x * 2 }), { connection, prefix });
      try {
        for (let i = 0; i < 5; i++) await q.add("j", { x: i }, { jobId: `j${i}` });
        await q.add("j", { x: 0 }, { jobId: "j0" });
        await waitUntil(async () => (await q.getJobCounts("completed")).completed === 5, "5 jobs");
        assert.deepEqual((await q.getJob("j3"))?.returnvalue, { twice: 6 });
        assert.equal((await q.getJobCounts("completed", "waiting")).waiting, 0, "the same id twice is one job");
      } finally {
        await w.close();
        await q.close();
      }
    });
  });
});
