/**
 * The one error path (bin/cli-errors.ts): every command, given bad input, prints one line
 * `fusiond <command>: <what is wrong> (<what to do>)` and exits 2 for a usage error, 1 for a failure.
 * Table-driven: each row runs the real CLI (no servers are started; the addresses given are never reached).
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CommanderError, InvalidArgumentError } from "commander";
import sinon from "sinon";
import { describeError, errorLine, reportError, UsageError } from "../../bin/cli-errors.ts";
import { main } from "../../bin/main.ts";
import { FusiondError } from "../../schemas/index.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function fusiond(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["bin/fusiond.js", ...args], { cwd: ROOT, encoding: "utf8", timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code ?? 1) : 0;
      resolve({ status: typeof code === "number" ? code : 1, stdout, stderr });
    });
  });
}

/** Runs the jobs `limit` at a time (the machine is shared: a few CLI processes at once, not thirty). */
async function pool<T, R>(items: T[], limit: number, job: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await job(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

describe("bin: one error path for every command", function () {
  this.timeout(300_000);
  let dir: string;
  let notMcap: string;
  let aFile: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "fusiond-cli-errors-"));
    notMcap = join(dir, "notmcap.mcap");
    writeFileSync(notMcap, "this is not an MCAP file\n");
    aFile = join(dir, "a-file");
    writeFileSync(aFile, "x");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  // [args, exit status, what the line says]
  const table = (): Array<[string[], number, RegExp]> => [
    [["train", "--data", "x.mcap", "--out", join(dir, "m"), "--lr", "abc"], 2, /^fusiond train: --lr must be a number > 0 and ≤ 1, not "abc" \(see fusiond train --help\)$/],
    [["train", "--data", "x.mcap", "--out", join(dir, "m"), "--epochs", "-1"], 2, /^fusiond train: --epochs must be a whole number ≥ 1, not "-1" \(/],
    [["train", "--data", "x.mcap", "--out", join(dir, "m"), "--modalities", "lidar"], 2, /^fusiond train: --modalities must be a comma-separated list of camera, radar, gnss, ego, voice \(lidar unknown\), not "lidar"/],
    [["train", "--data", "x.mcap", "--out", join(dir, "m"), "--backend", "quantum"], 2, /^fusiond train: --backend must be one of auto, tensorflow-gpu, tensorflow, wasm, cpu, not "quantum"/],
    [["sim", "--duration", "-5", "--out", join(dir, "s.mcap")], 2, /^fusiond sim: --duration must be a number > 0, not "-5" \(see fusiond sim --help\)$/],
    [["sim", "--sensors", "lidar", "--out", join(dir, "s.mcap")], 2, /^fusiond sim: --sensors must be a comma-separated list of camera, radar, gnss, ego, voice \(lidar unknown\), not "lidar"/],
    [["sim", "--compression", "gzip", "--out", join(dir, "s.mcap")], 2, /^fusiond sim: --compression must be one of zstd, lz4, none, not "gzip"/],
    [["sim", "--seed", "abc", "--out", join(dir, "s.mcap")], 2, /^fusiond sim: --seed must be a whole number ≥ 0, not "abc"/],
    [["sim", "--on-timeout", "never", "--mqtt", "mqtt://127.0.0.1:1"], 2, /^fusiond sim: --on-timeout must be one of hold, stop, abort, not "never"/],
    [["sim"], 2, /^fusiond sim: give --out FILE\.mcap \(dataset mode\), or --mqtt\/--zmq \(live mode\) \(/],
    [["replay", notMcap, "-m", "models/default", "--backend", "quantum"], 2, /^fusiond replay: --backend must be one of auto, .*not "quantum"/],
    [["replay", notMcap, "-m", "models/default", "--start", "50", "--end", "10"], 2, /^fusiond replay: --end \(10 s\) must be after --start \(50 s\) \(/],
    [["replay", notMcap, "-m", "models/default", "--tolerance", "-1"], 2, /^fusiond replay: --tolerance must be a number ≥ 0, not "-1"/],
    [["replay", dir, "-m", "models/default"], 1, new RegExp(`^fusiond replay: ${dir} is a directory, not a file \\(give a file inside it`)],
    [["eval", "--model", "models/default", "--data", "x.mcap", "--backend", "quantum"], 2, /^fusiond eval: --backend must be one of /],
    [["eval", "--model", "models/default", "--data", "x.mcap", "--bootstrap", "0"], 2, /^fusiond eval: --bootstrap must be a whole number ≥ 1, not "0"/],
    [["eval", "--data", "x.mcap"], 2, /^fusiond eval: give --model DIR \(and\/or --compare DIR\.\.\.\) \(see fusiond eval --help\)$/],
    [["run", "--mqtt", "mqtt://127.0.0.1:1", "--backend", "quantum"], 2, /^fusiond run: --backend must be one of /],
    [["run", "--mqtt", "mqtt://127.0.0.1:1", "--http", "127.0.0.1:99999"], 2, /^fusiond run: --http must be HOST:PORT with a port from 0 to 65535, or off, not "127\.0\.0\.1:99999"/],
    [["run", "--config", "/nope.yaml"], 2, /^fusiond run: --config must be an existing file \(there is none at that path\), not "\/nope\.yaml"/],
    [["run"], 2, /^fusiond run: .*no input: set mqtt\.url .*\(see fusiond run --help\)$/],
    [["play", notMcap, "--mqtt", "mqtt://127.0.0.1:1", "--start", "20", "--end", "5"], 2, /^fusiond play: --end \(5 s\) must be after --start \(20 s\)/],
    [["play", notMcap], 2, /^fusiond play: give exactly one of --mqtt URL or --zmq ENDPOINT \(/],
    [["play", dir, "--mqtt", "mqtt://127.0.0.1:1"], 1, /^fusiond play: .* is a directory, not a file/],
    [["info", dir], 1, new RegExp(`^fusiond info: ${dir} is a directory, not a file \\(`)],
    [["info", "models/default"], 1, /^fusiond info: models\/default is a model directory, not a recording \(fusiond models models\/default describes it\)$/],
    [["info", join(dir, "missing.mcap")], 1, /^fusiond info: .*missing\.mcap: cannot open for reading: .* \(check the path: .*missing\.mcap does not exist\)$/],
    [["info", "a", "b"], 2, /^fusiond info: too many arguments for 'info'.* \(see fusiond info --help\)$/],
    [["info", "--bogus", "x"], 2, /^fusiond info: unknown option '--bogus' \(see fusiond info --help\)$/],
    [["recover", notMcap], 2, /^fusiond recover: required option '-o, --out <fixed>' not specified \(see fusiond recover --help\)$/],
    [["recover", notMcap, "-o", join(dir, "fixed.mcap"), "--compression", "gzip"], 2, /^fusiond recover: --compression must be one of /],
    [["record", "--mqtt", "mqtt://127.0.0.1:1", "-o", join(dir, "r.mcap"), "--duration", "0"], 2, /^fusiond record: --duration must be a number > 0, not "0"/],
    [["echo", "--ca", "/nope.pem", "--mqtt", "mqtt://127.0.0.1:1"], 2, /^fusiond echo: --ca must be an existing file \(there is none at that path\), not "\/nope\.pem"/],
    [["echo", "--mqtt", "mqtt://127.0.0.1:1", "--bytes", "hex"], 2, /^fusiond echo: --bytes must be one of length, base64, not "hex"/],
    [["echo"], 2, /^fusiond echo: give exactly one of --mqtt URL or --zmq ENDPOINT \(see fusiond echo --help\)$/],
    [["demo", "--out", aFile], 2, /^fusiond demo: --out .* is a file; the demo writes its recording into a directory \(give a directory/],
    [["demo", "--duration", "-1"], 2, /^fusiond demo: --duration must be a number > 0, not "-1"/],
    [["rnu"], 2, /^fusiond: unknown command 'rnu' \(Did you mean run\? see fusiond --help\)$/],
  ];

  /** Runs the CLI in this process (one module load for the whole table), capturing stderr. */
  async function inProcess(args: string[]): Promise<Run> {
    let stderr = "";
    let stdout = "";
    const errStub = sinon.stub(process.stderr, "write").callsFake((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    const outStub = sinon.stub(process.stdout, "write").callsFake((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
    const before = process.exitCode;
    try {
      const status = await main(["node", "fusiond", ...args]);
      return { status: status ?? (typeof process.exitCode === "number" ? process.exitCode : 0), stdout, stderr };
    } finally {
      errStub.restore();
      outStub.restore();
      process.exitCode = before;
    }
  }

  it("prints one line with what is wrong and what to do, and exits 2 (usage) or 1 (failure)", async () => {
    const rows = table();
    const runs: Run[] = [];
    for (const [args] of rows) runs.push(await inProcess(args));
    const failures: string[] = [];
    rows.forEach(([args, status, line], i) => {
      const r = runs[i]!;
      const lines = r.stderr.split("\n").filter(Boolean);
      if (r.status !== status) failures.push(`fusiond ${args.join(" ")}: exit ${r.status}, want ${status}: ${r.stderr}`);
      else if (lines.length !== 1 || !line.test(lines[0]!)) failures.push(`fusiond ${args.join(" ")}: stderr ${JSON.stringify(r.stderr)} does not match ${line}`);
      else if (/\n\s+at /.test(r.stderr)) failures.push(`fusiond ${args.join(" ")}: a stack trace without --verbose`);
    });
    assert.deepEqual(failures, []);
  });

  it("eval on recordings without expert labels fails and says which recordings to use, instead of scoring 0", async () => {
    const r = await inProcess(["eval", "--model", "models/default", "--data", "test/golden/live-drive.mcap", "--quiet", "--backend", "cpu"]);
    assert.equal(r.status, 1);
    const last = r.stderr.trimEnd().split("\n").pop()!;
    assert.match(last, /^fusiond eval: --data has no expert labels \(fusiond\.GroundTruth\).* \(give recordings made by fusiond sim --out/);
    assert.equal(r.stdout, "");
  });

  it("every command's --help ends with examples", async () => {
    const { buildProgram } = await import("../../bin/main.ts");
    const names = buildProgram().commands.map((c) => c.name()).filter((n) => n !== "help");
    assert.ok(names.length >= 16, names.join(" "));
    for (const name of names) {
      const r = await inProcess([name, "--help"]);
      assert.equal(r.status, 0, name);
      assert.match(r.stdout, /\nExamples:\n {2}(fusiond|npm|source) /, `${name} --help has examples`);
    }
  });

  it("the executable prints the same line and exits with the same status (a sample of the table, run as processes)", async () => {
    const rows = table();
    const sample = [rows.find(([a]) => a.includes("--lr"))!, rows.find(([a]) => a.includes("lidar") && a[0] === "sim")!, rows.find(([a]) => a[0] === "info" && a[1] === dir)!];
    const runs = await pool(sample, 3, ([args]) => fusiond(args));
    sample.forEach(([args, status, line], i) => {
      assert.equal(runs[i]!.status, status, `fusiond ${args.join(" ")}: ${runs[i]!.stderr}`);
      assert.match(runs[i]!.stderr.trimEnd(), line);
    });
  });

  it("--json gives the error as one JSON object; --verbose adds the stack", async () => {
    const [json, verbose] = (await pool([["info", dir, "--json"], ["info", dir, "--verbose"]], 2, (args) => fusiond(args))) as [Run, Run];
    assert.equal(json.status, 1);
    const parsed = JSON.parse(json.stderr) as { error: { command: string; code: string; message: string; hint: string; exitCode: number } };
    assert.deepEqual(parsed.error, { command: "info", code: "is_directory", message: `${dir} is a directory, not a file`, hint: "give a file inside it, e.g. an .mcap recording", exitCode: 1 });
    assert.equal(json.stdout, "");
    assert.equal(verbose.status, 1);
    assert.match(verbose.stderr, /\n\s+at .*io\.ts/);
  });

  describe("describeError", () => {
    it("maps usage codes to 2, failures to 1, system errors to their path and a hint", () => {
      assert.equal(describeError(new UsageError("bad"), "sim").exitCode, 2);
      assert.equal(describeError(new FusiondError("bad_option", "x"), "sim").hint, "see fusiond sim --help");
      assert.equal(describeError(new FusiondError("write_failed", "disk"), "record").exitCode, 1);
      const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'a.pem'"), { code: "ENOENT", path: "a.pem", syscall: "open" });
      assert.equal(errorLine(describeError(enoent, "echo")), "fusiond echo: a.pem: no such file or directory (check the path: a.pem does not exist)");
      assert.equal(describeError(new Error("boom\n  more"), "x").message, "boom");
    });

    it("rewrites commander's invalid-argument message into the rule and the value", () => {
      const err = new CommanderError(1, "commander.invalidArgument", `error: option '-r, --rate <n>' argument 'abc' is invalid. ${new InvalidArgumentError("a number > 0").message}`);
      const r = describeError(err, "play");
      assert.equal(errorLine(r), 'fusiond play: --rate must be a number > 0, not "abc" (see fusiond play --help)');
      assert.equal(r.exitCode, 2);
    });

    it("help and version exit 0 and print nothing more", () => {
      const out: string[] = [];
      assert.equal(reportError(new CommanderError(0, "commander.help", "(outputHelp)"), { command: "", json: false, verbose: false, write: (s) => out.push(s) }), 0, "fusiond help sim");
      assert.equal(reportError(new CommanderError(1, "commander.help", "(outputHelp)"), { command: "", json: false, verbose: false, write: (s) => out.push(s) }), 2, "fusiond alone");
      out.length = 0;
      assert.equal(reportError(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)"), { command: "", json: false, verbose: false, write: (s) => out.push(s) }), 0);
      assert.deepEqual(out, []);
    });
  });
});
