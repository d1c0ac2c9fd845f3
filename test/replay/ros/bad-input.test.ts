/**
 * Bad ROS input: a bag that was not closed (no index) or was cut is recovered by a forward scan, as
 * `rosbag reindex` does, and the offset reported; bz2 chunks, unknown message definitions and a ROS 2 file
 * in an unknown encoding are one clear error naming file, offset and topic, with no output left behind.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FusiondError } from "../../../schemas/index.ts";
import { convertRosFile, type ConvertReport } from "../../../replay/index.ts";
import { writeRos2Mcap } from "../../fixtures/ros/ros2-mcap-writer.ts";
import { fusiond, PYTHON, requireRosbag, simDrive, writeBag, type Drive } from "./helpers.ts";

const ODD_BAG = fileURLToPath(new URL("../../fixtures/ros/write_odd_bag.py", import.meta.url));

/** What a recorder killed before close leaves: index_pos 0 in the bag header, nothing from the index on. */
function unindex(bag: Buffer): Buffer {
  const at = bag.indexOf("index_pos=", 13, "latin1") + "index_pos=".length;
  const indexPos = Number(bag.readBigUInt64LE(at));
  const out = Buffer.from(bag.subarray(0, indexPos));
  out.writeBigUInt64LE(0n, at);
  return out;
}

describe("ROS input: damaged, unindexed and unreadable files", function () {
  this.timeout(120_000);
  let dir: string;
  let drive: Drive;
  let bag: string;
  let full: ConvertReport;
  const out = (name: string): string => join(dir, "out", name);
  const noOutput = (name: string): void => {
    assert.equal(existsSync(out(name)), false, "no output file");
    assert.deepEqual(readdirSync(join(dir, "out")), [], "no temporary file left either");
  };
  const rejectsWith = async (input: string, code: string, pattern: RegExp): Promise<void> => {
    await assert.rejects(convertRosFile(input, out("x.mcap")), (e: FusiondError) => {
      assert.equal(e.code, code, e.message);
      assert.ok(e.message.includes(input), `names the file: ${e.message}`);
      assert.match(e.message, /at byte offset \d+/);
      assert.match(e.message, pattern);
      return true;
    });
    noOutput("x.mcap");
  };

  before(async () => {
    requireRosbag();
    dir = mkdtempSync(join(tmpdir(), "fusiond-rostest-bad-"));
    spawnSync("mkdir", [join(dir, "out")]);
    drive = await simDrive(dir, 3);
    bag = join(dir, "drive.bag");
    writeBag(drive.jsonl, bag, "lz4", 128 * 1024);
    full = await convertRosFile(bag, out("full.mcap"));
    rmSync(out("full.mcap"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("lz4 chunks read like uncompressed ones (every message, same count)", async () => {
    const plain = join(dir, "plain.bag");
    writeBag(drive.jsonl, plain, "none");
    const r = await convertRosFile(plain, out("plain.mcap"));
    rmSync(out("plain.mcap"));
    assert.equal(full.messagesIn, r.messagesIn);
    assert.equal(full.messagesOut, r.messagesOut);
    assert.deepEqual(full.problems, []);
  });

  it("a bag whose chunks are out of time order is read through @foxglove/rosbag's merged iterator: the same messages", async () => {
    const lines = readFileSync(drive.jsonl, "utf8").trim().split("\n");
    const half = Math.floor(lines.length / 2);
    const swapped = join(dir, "swapped.jsonl");
    writeFileSync(swapped, [...lines.slice(half), ...lines.slice(0, half)].join("\n") + "\n");
    const file = join(dir, "swapped.bag");
    writeBag(swapped, file, "lz4", 128 * 1024);
    const r = await convertRosFile(file, out("swapped.mcap"));
    rmSync(out("swapped.mcap"));
    assert.equal(r.messagesIn, full.messagesIn);
    assert.equal(r.messagesOut, full.messagesOut);
    assert.equal(r.startNs, full.startNs);
    assert.equal(r.endNs, full.endNs);
  });

  it("a bag without an index (recorder killed) is recovered whole by a forward scan", async () => {
    const file = join(dir, "unindexed.bag");
    writeFileSync(file, unindex(readFileSync(bag)));
    const r = await convertRosFile(file, out("unindexed.mcap"));
    assert.equal(r.messagesOut, full.messagesOut);
    assert.equal(r.problems[0]?.code, "bag_unindexed");
    assert.ok(existsSync(out("unindexed.mcap")));
    rmSync(out("unindexed.mcap"));
  });

  it("a cut bag keeps every whole chunk before the cut; convert reports the offset", () => {
    const bytes = readFileSync(bag);
    const file = join(dir, "cut.bag");
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const r = fusiond("convert", file, "--out", out("cut.mcap"));
    assert.equal(r.status, 0, r.stderr);
    const recovered = /recovered: bag_truncated at byte offset (\d+): .*runs past the end of the file/.exec(r.stdout);
    assert.ok(recovered, r.stdout);
    const written = Number(/(\d+) written/.exec(r.stdout)?.[1]);
    assert.ok(written > 0 && written < full.messagesOut, `${written} of ${full.messagesOut} messages recovered`);
    rmSync(out("cut.mcap"));
  });

  it("bz2 chunks (Debian's rosbag writes them) read like uncompressed ones: every message, same count", async () => {
    const file = join(dir, "bz2.bag");
    writeBag(drive.jsonl, file, "bz2");
    const r = await convertRosFile(file, out("bz2.mcap"));
    rmSync(out("bz2.mcap"));
    assert.equal(r.messagesIn, full.messagesIn);
    assert.equal(r.messagesOut, full.messagesOut);
    assert.deepEqual(r.problems, []);
  });

  it("a damaged bz2 chunk: recovered around as a cut chunk is, with the offset and the reason", async () => {
    const file = join(dir, "bz2-bad.bag");
    writeBag(drive.jsonl, file, "bz2");
    const bytes = readFileSync(file);
    // Flip bytes in the middle of the first chunk's compressed data (past the bag header and chunk header).
    const at = bytes.indexOf(Buffer.from("BZh")) + 200;
    for (let i = 0; i < 64; i++) bytes[at + i] = bytes[at + i]! ^ 0xff;
    writeFileSync(file, bytes);
    const r = fusiond("convert", file, "--out", out("bz2-bad.mcap"));
    const said = r.stdout + r.stderr;
    assert.match(said, /bz2 chunk does not decompress/, said);
    assert.match(said, /offset \d+/);
    if (r.status === 0) rmSync(out("bz2-bad.mcap"));
    else noOutput("bz2-bad.mcap");
  });

  it("a connection without a message definition, of a type fusiond does not know: unknown_definition", async () => {
    const file = join(dir, "nodef.bag");
    const r = spawnSync(PYTHON, [ODD_BAG, file, "no-definition"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    await rejectsWith(file, "unknown_definition", /topic \/radar\/front\/scan, type radar_msgs\/RadarScan/);
  });

  it("a definition that uses a type it does not define: unknown_definition", async () => {
    const file = join(dir, "baddef.bag");
    const r = spawnSync(PYTHON, [ODD_BAG, file, "bad-definition"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    await rejectsWith(file, "unknown_definition", /acme_msgs\/Nothing.*topic \/gps\/fix/);
  });

  it("a ROS 2 MCAP whose channels are in an unknown encoding: unknown_encoding", async () => {
    const file = join(dir, "xcdr.mcap");
    await writeRos2Mcap(drive.lines, file, { messageEncoding: "xcdr9" });
    await rejectsWith(file, "unknown_encoding", /message encoding "xcdr9".*topic \//);
  });

  it("a ROS 2 MCAP cut mid-write (no summary, no footer) keeps what precedes the cut", async () => {
    const whole = join(dir, "whole.mcap");
    await writeRos2Mcap(drive.lines, whole);
    const size = readFileSync(whole).length;
    const file = join(dir, "cut2.mcap");
    await writeRos2Mcap(drive.lines, file, { cutAt: Math.floor(size * 0.7) });
    const r = await convertRosFile(file, out("cut2.mcap"));
    assert.equal(r.problems[0]?.code, "mcap_truncated");
    assert.ok(r.messagesOut > 0 && r.messagesOut < full.messagesOut, `${r.messagesOut} of ${full.messagesOut}`);
    rmSync(out("cut2.mcap"));
  });

  it("neither a bag nor MCAP: not_recording at offset 0", async () => {
    const file = join(dir, "junk.bag");
    writeFileSync(file, "not a recording at all");
    await assert.rejects(convertRosFile(file, out("junk.mcap")), (e: FusiondError) => e.code === "not_recording" && /junk\.bag.*byte offset 0/.test(e.message));
    noOutput("junk.mcap");
  });
});
