/**
 * CPU accounting from Linux's /proc, for benches that compare processes on a shared machine: a process's
 * CPU time split into its main thread (where JavaScript runs) and its other threads (V8's background
 * compiler and GC, libuv's pool, native libraries), and the machine's busy cores. Wall-clock ratios on a
 * machine others use mean little alone; CPU seconds per unit of work and who got the cores explain them.
 * Where /proc is missing (not Linux), every reader returns undefined.
 */
import { readdirSync, readFileSync } from "node:fs";

/** CPU seconds a process used so far: on its main thread and on all its other threads. */
export interface ThreadCpu {
  mainS: number;
  otherS: number;
}

const TICK_S = 0.01; // USER_HZ is 100 on every Linux that Node supports

/** utime + stime of one /proc stat line, in seconds (fields 14 and 15; the name may hold spaces). */
function statCpuS(raw: string): number {
  const f = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * TICK_S;
}

export function threadCpu(pid: number): ThreadCpu | undefined {
  try {
    let mainS = 0;
    let otherS = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      let s: number;
      try {
        s = statCpuS(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8"));
      } catch {
        continue; // the thread ended meanwhile
      }
      if (tid === String(pid)) mainS += s;
      else otherS += s;
    }
    return { mainS, otherS };
  } catch {
    return undefined;
  }
}

export const cpuDelta = (a: ThreadCpu, b: ThreadCpu): ThreadCpu => ({ mainS: b.mainS - a.mainS, otherS: b.otherS - a.otherS });

/** The machine's CPU seconds so far: busy (not idle, not iowait) and in all, summed over its cores. */
export interface MachineCpu {
  busyS: number;
  totalS: number;
}

export function machineCpu(): MachineCpu | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const totalS = f.reduce((a, b) => a + b, 0) * TICK_S;
    return { busyS: totalS - (f[3]! + f[4]!) * TICK_S, totalS };
  } catch {
    return undefined;
  }
}
