/** bin/daemon/realtime.ts: the daemon's main thread under SCHED_FIFO (`--realtime-priority`), or a warning that says what to do. */
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { configFromFlags } from "../../bin/commands/run.ts";
import { schedulingPolicyOf, setRealtimePriority } from "../../bin/daemon/realtime.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("bin: real-time priority of the daemon's main thread", function () {
  this.timeout(30_000);

  it("moves only the main thread of a running node process to SCHED_FIFO where permitted, else says what is needed", async () => {
    if (process.platform !== "linux") {
      const r = setRealtimePriority(10);
      assert.equal(r.ok, false);
      assert.match(r.detail, /Linux's chrt/);
      return;
    }
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
    try {
      const pid = child.pid!;
      // Wait until node has started its other threads (V8 platform workers, libuv), so that they exist to stay normal.
      const threads = (): string[] => readdirSync(`/proc/${pid}/task`);
      for (let i = 0; i < 100 && threads().length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(threads().length >= 3, `node started ${threads().length} threads`);
      assert.equal(schedulingPolicyOf(pid), "normal");
      const r = setRealtimePriority(10, { pid });
      if (r.ok) {
        assert.match(r.detail, new RegExp(`main thread \\(${pid}\\) runs SCHED_FIFO at priority 10`));
        assert.equal(schedulingPolicyOf(pid), "fifo");
        const others = threads().filter((t) => Number(t) !== pid);
        for (const t of others) assert.equal(schedulingPolicyOf(pid, Number(t)), "normal", `thread ${t} kept the normal policy`);
        // Reset on fork: what the main thread starts later (a worker, a child process) runs at normal priority.
        assert.match(spawnSync("chrt", ["-p", String(pid)], { encoding: "utf8" }).stdout, /SCHED_FIFO\|SCHED_RESET_ON_FORK/);
      } else {
        // An unprivileged user (a laptop): the reason and the remedy, and nothing changed.
        assert.match(r.detail, /CAP_SYS_NICE/);
        assert.equal(schedulingPolicyOf(pid), "normal");
      }
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("reports a refused or missing chrt with the remedy, and rejects a priority outside 1–99 without running anything", () => {
    let calls = 0;
    const refused = setRealtimePriority(50, { pid: 4242, platform: "linux", run: () => (calls++, { status: 1, stdout: "", stderr: "chrt: failed to set pid 4242's policy: Operation not permitted\n" }) });
    assert.equal(refused.ok, false);
    assert.match(refused.detail, /chrt --fifo --reset-on-fork -p 50 4242 failed \(chrt: failed to set pid 4242's policy: Operation not permitted\)/);
    assert.match(refused.detail, /CAP_SYS_NICE.*LimitRTPRIO.*normal priority/);
    const missing = setRealtimePriority(50, { platform: "linux", run: () => (calls++, { status: null, stdout: "", stderr: "", error: new Error("spawnSync chrt ENOENT") }) });
    assert.match(missing.detail, /could not run chrt \(spawnSync chrt ENOENT\)/);
    assert.equal(calls, 2);
    for (const bad of [0, 100, 2.5]) assert.match(setRealtimePriority(bad, { platform: "linux", run: () => (calls++, { status: 0, stdout: "", stderr: "" }) }).detail, /integer 1–99/);
    assert.match(setRealtimePriority(5, { platform: "darwin" }).detail, /on darwin the daemon runs at normal priority/);
    assert.equal(calls, 2);
  });

  it("takes the priority from --realtime-priority or the config's realtime.priority, and refuses one outside 1–99", () => {
    assert.equal(configFromFlags({ mqtt: "mqtt://127.0.0.1:1883", realtimePriority: "50" }).config.realtime?.priority, 50);
    assert.equal(configFromFlags({ mqtt: "mqtt://127.0.0.1:1883" }).config.realtime, undefined);
    assert.throws(() => configFromFlags({ mqtt: "mqtt://127.0.0.1:1883", realtimePriority: "0" }), /realtime\.priority: .*>=1/);
    const help = spawnSync(process.execPath, ["bin/fusiond.js", "run", "--help"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    assert.match(help.stdout, /--realtime-priority <1-99>/);
  });
});
