/**
 * The recorder's and reader's only contact with storage: two tiny ports, as @mcap/core does it
 * (`IWritable`/`IReadable`), each with an in-memory implementation for tests and a file one for bin/.
 */
import { open, unlink, type FileHandle } from "node:fs/promises";
import type { McapTypes } from "@mcap/core";
import { FusiondError } from "../schemas/index.ts";

/** Where recorded bytes go. Calls are serialised by the caller: wait for each write before the next. */
export interface ByteSink {
  /** A name for messages (the file path). */
  readonly name: string;
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
  /** Closes and removes the output (a file that holds nothing worth keeping). Optional. */
  discard?(): Promise<void>;
}

/** Random-access bytes to read a recording from (MCAP's IReadable plus a name and close). */
export interface ByteSource extends McapTypes.IReadable {
  readonly name: string;
  close(): Promise<void>;
  /** Optional: reads up to `target.length` bytes at `offset` into `target` (a buffer reused across reads); resolves to the bytes read. */
  readInto?(offset: bigint, target: Uint8Array): Promise<number>;
}

/** Collects everything written, for tests and for building files in memory. */
export class MemorySink implements ByteSink {
  private parts: Uint8Array[] = [];
  private length = 0;
  closed = false;
  constructor(readonly name = "memory") {}
  async write(bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new FusiondError("sink_closed", `${this.name}: write after close`, { file: this.name });
    this.parts.push(bytes.slice());
    this.length += bytes.length;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  /** Everything written so far, as one buffer. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    this.parts = [out];
    return out;
  }
}

export class MemorySource implements ByteSource {
  constructor(
    readonly data: Uint8Array,
    readonly name = "memory",
  ) {}
  async size(): Promise<bigint> {
    return BigInt(this.data.length);
  }
  async read(offset: bigint, size: bigint): Promise<Uint8Array> {
    const start = Number(offset);
    const end = start + Number(size);
    if (start < 0 || end > this.data.length) {
      throw new FusiondError("read_past_end", `${this.name}: read of ${size} bytes at offset ${offset} is past the end (${this.data.length})`, {
        file: this.name,
        offset: start,
      });
    }
    return this.data.subarray(start, end);
  }
  async close(): Promise<void> {}
}

/** Opens (creating or truncating) a file for recording. */
export async function fileSink(path: string): Promise<ByteSink> {
  let handle: FileHandle;
  try {
    handle = await open(path, "w");
  } catch (err) {
    throw new FusiondError("open_failed", `${path}: cannot open for writing: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  return {
    name: path,
    async write(bytes: Uint8Array): Promise<void> {
      // write() may write less than asked; loop until all of it is down.
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
        done += bytesWritten;
      }
    },
    async close(): Promise<void> {
      await handle.close();
    },
    async discard(): Promise<void> {
      await handle.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
    },
  };
}

/** Opens a file for random-access reading. */
export async function fileSource(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    throw new FusiondError("open_failed", `${path}: cannot open for reading: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  const stat = await handle.stat();
  if (stat.isDirectory()) {
    await handle.close();
    throw new FusiondError("is_directory", `${path} is a directory, not a file`, { file: path, hint: "give a file inside it, e.g. an .mcap recording" });
  }
  const total = BigInt(stat.size);
  return {
    name: path,
    async size(): Promise<bigint> {
      return total;
    },
    async read(offset: bigint, size: bigint): Promise<Uint8Array> {
      if (offset < 0n || offset + size > total) {
        throw new FusiondError("read_past_end", `${path}: read of ${size} bytes at offset ${offset} is past the end (${total})`, {
          file: path,
          offset: Number(offset),
        });
      }
      const buf = new Uint8Array(Number(size));
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await handle.read(buf, done, buf.length - done, Number(offset) + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buf;
    },
    async readInto(offset: bigint, target: Uint8Array): Promise<number> {
      let done = 0;
      while (done < target.length) {
        const { bytesRead } = await handle.read(target, done, target.length - done, Number(offset) + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    },
    async close(): Promise<void> {
      await handle.close();
    },
  };
}
