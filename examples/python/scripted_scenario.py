#!/usr/bin/python3
"""An external simulator in a few lines: a scripted scenario published on fusiond's default topics.

The scenario: the ego drives at --speed in fog toward a vehicle stopped --gap metres ahead in its lane. The
camera is nearly blind (a fixed 64x64 fog frame, fog_stopped_vehicle.jpg); the radar sees the stopped
vehicle clearly (range closing at the ego's speed, Doppler = -speed) among some guard-rail clutter; the CAN bus
gives the ego's speed; GNSS gives fixes. Sensors go out at their nominal rates (camera and radar 20 Hz, ego
50 Hz, GNSS 10 Hz), stamped with the wall clock, so `fusiond run` treats them as a live drive.

Decisions on vehicles/{v}/decision close the loop (unless --open-loop): the ego follows the latest one, each
action bounding its acceleration as fusiond's own simulator does (BRAKE_HARD -8..-4 m/s2, STOP -5..0, ...).
Every decision received is printed as one JSON line; a final {"summary": ...} line says whether the ego
stopped short of the vehicle.

    /usr/bin/python3 examples/python/scripted_scenario.py --mqtt mqtt://127.0.0.1:1883 --vehicle demo --pb /tmp/fusiond_pb

With --lockstep it is a lockstep simulator instead (docs/simulator.md): after each 50 ms step's sensor messages
it publishes fusiond.SimStep and waits (--timeout) for the decision whose frame_stamp echoes that step.
"""

from __future__ import annotations

import argparse
import math
import os
import queue
import random
import sys
import time

from fusiond_mqtt import ACTIONS, Topics, connect, emit, load_protos, now_ns, set_stamp, stamp_ns, subscribe_all

TICK_NS = 10_000_000  # 10 ms physics tick
STEP_TICKS = 5  # 50 ms lockstep / decision step
# Acceleration bounds per action (min, max, default without a target speed), m/s2: fusiond's sim/world/ego.ts.
ACCEL = {
    "KEEP": (-0.5, 0.5, 0.0),
    "ACCELERATE": (0.0, 2.5, 1.5),
    "DECELERATE": (-4.0, 0.0, -2.0),
    "BRAKE_HARD": (-8.0, -4.0, -7.0),
    "LANE_LEFT": (-4.0, 2.5, 0.0),
    "LANE_RIGHT": (-4.0, 2.5, 0.0),
    "STOP": (-5.0, 0.0, -3.0),
    "PULL_OVER": (-4.0, 1.5, -1.5),
}
FRAME = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fog_stopped_vehicle.jpg")


def accel_for(action: str, target: float, v: float) -> float:
    lo, hi, dflt = ACCEL.get(action, ACCEL["KEEP"])
    a = (max(0.0, target) - v) / 1.0 if target > 0 or action in ("STOP", "PULL_OVER") else dflt
    return min(hi, max(lo, a))


class Scenario:
    """The scripted world: one ego, one stopped vehicle ahead, guard rails; 10 ms ticks."""

    def __init__(self, P, topics: Topics, vehicle: str, speed: float, gap: float, seed: int):
        self.P, self.t, self.vehicle = P, topics, vehicle
        self.rng = random.Random(seed)
        self.v, self.a, self.s = speed, 0.0, 0.0
        self.target_s = gap + 4.6  # bumper-to-bumper gap + one car length (centre to centre)
        self.command = ("KEEP", speed)
        self.jpeg = open(FRAME, "rb").read()
        self.tick = 0
        self.collision = False
        self.min_gap = self.gap()
        self.seq = 0

    def gap(self) -> float:
        return self.target_s - self.s - 4.6

    def step_physics(self, closed_loop: bool) -> None:
        dt = TICK_NS / 1e9
        if closed_loop:
            self.a = accel_for(self.command[0], self.command[1], self.v)
        v1 = max(0.0, self.v + self.a * dt)
        self.s += (self.v + v1) / 2 * dt
        self.v = v1
        self.tick += 1
        g = self.gap()
        self.min_gap = min(self.min_gap, g)
        if g <= 0:
            self.collision = True

    def messages(self, stamp: int) -> list[tuple[str, bytes, int]]:
        """(topic, payload, qos) of every sensor sampled at this tick."""
        P, k, out = self.P, self.tick, []
        if k % 2 == 1:
            m = P.EgoState(speed_mps=round(self.v, 2), accel_mps2=self.a, frame_id="base_link")
            set_stamp(m.timestamp, stamp)
            out.append((self.t.ego, m.SerializeToString(), 0))
        if k % 5 == 0:
            m = P.CompressedImage(frame_id="camera_front", format="jpeg", data=self.jpeg)
            set_stamp(m.timestamp, stamp)
            out.append((self.t.camera, m.SerializeToString(), 0))
        if k % 5 == 2:
            m = P.RadarScan(frame_id="radar_front", seq=self.seq)
            self.seq += 1
            set_stamp(m.timestamp, stamp)
            r = self.rng
            if r.random() < 0.95:  # the stopped vehicle: a strong return, closing at the ego's speed
                rng_m = self.gap() + 0.5 + r.gauss(0, 0.2)
                if 0 < rng_m < 160:
                    m.returns.add(range_m=rng_m, azimuth_rad=r.gauss(0, 0.005), elevation_rad=0.0,
                                  radial_velocity_mps=-self.v + r.gauss(0, 0.1), rcs_dbsm=12 + r.gauss(0, 1))
            for _ in range(2):  # guard-rail posts, well outside the lane
                rng_m = r.uniform(10, 100)
                az = math.atan2(r.choice((-1, 1)) * r.uniform(4.5, 6.0), rng_m)
                m.returns.add(range_m=rng_m, azimuth_rad=az, elevation_rad=0.0,
                              radial_velocity_mps=-self.v * math.cos(az), rcs_dbsm=r.uniform(-5, 3))
            out.append((self.t.radar, m.SerializeToString(), 0))
        if k % 10 == 3:
            m = P.LocationFix(frame_id="gnss", latitude=48.1 + self.s / 111_111.0 + self.rng.gauss(0, 1.5e-5),
                              longitude=11.5, altitude=520.0, position_covariance=[4, 0, 0, 0, 4, 0, 0, 0, 6.25],
                              position_covariance_type=2)
            m.metadata.add(key="fix", value="3d")
            set_stamp(m.timestamp, stamp)
            out.append((self.t.gnss, m.SerializeToString(), 0))
        return out


def action_name(n: int) -> str:
    return ACTIONS[n] if 0 <= n < len(ACTIONS) else str(n)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mqtt", default="mqtt://127.0.0.1:1883")
    ap.add_argument("--vehicle", default="demo")
    ap.add_argument("--pb", help="directory of the protoc --python_out modules (or $FUSIOND_PB)")
    ap.add_argument("--speed", type=float, default=15.0, help="initial ego speed, m/s")
    ap.add_argument("--gap", type=float, default=90.0, help="initial gap to the stopped vehicle, m")
    ap.add_argument("--duration", type=float, default=20.0, help="longest run, s (ends early 2 s after a standstill)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--open-loop", action="store_true", help="ignore decisions: the ego keeps its speed")
    ap.add_argument("--lockstep", action="store_true", help="publish SimStep per 50 ms step and wait for its decision")
    ap.add_argument("--timeout", type=float, default=1.0, help="lockstep: wait per step for its decision, s")
    ap.add_argument("--camera-latency-ms", type=float, default=0.0,
                    help="real time: publish each camera frame this long after its capture stamp, as a real camera "
                         "pipeline (exposure, ISP, encoding) delivers it; the other sensors go out at their stamps")
    a = ap.parse_args()

    P = load_protos(a.pb)
    t = Topics(a.vehicle)
    decisions: queue.Queue = queue.Queue()
    client = connect(a.mqtt, f"fusiond-py-scenario-{a.vehicle}")
    client.on_message = lambda c, userdata, msg: decisions.put((msg.payload, now_ns()))  # with the arrival time
    subscribe_all(client, [(t.decision, 1)])
    print(f"publishing: vehicle {a.vehicle} on {a.mqtt}{' (lockstep)' if a.lockstep else ''}", file=sys.stderr, flush=True)

    sc = Scenario(P, t, a.vehicle, a.speed, a.gap, a.seed)
    start_ns = now_ns() // TICK_NS * TICK_NS
    wall0 = time.monotonic()
    ticks = round(a.duration * 1e9 / TICK_NS / STEP_TICKS) * STEP_TICKS
    counts: dict[str, int] = {}
    received = timeouts = stale = 0
    still_ticks = 0
    if a.camera_latency_ms and a.lockstep:
        ap.error("--camera-latency-ms is for real time (in lockstep each step waits for its decision)")
    camera_delay_ns = round(a.camera_latency_ms * 1e6)
    held: list[tuple[int, str, bytes, int]] = []  # (due stamp, topic, payload, qos), in order

    def apply(item: tuple[bytes, int], step_stamp: int | None = None) -> bool:
        """Takes one decision (open loop: only prints it); in lockstep only the one for step_stamp counts. True when taken."""
        nonlocal received, stale
        payload, recv_ns = item
        d = P.DrivingDecision.FromString(payload)
        fs = stamp_ns(d.frame_stamp)
        if step_stamp is not None and fs != step_stamp:
            stale += 1
            return False
        received += 1
        if not a.open_loop:
            sc.command = (action_name(d.action), d.target_speed_mps)
        emit({"t_s": round((sc.tick * TICK_NS) / 1e9, 3), "frame_stamp_ns": fs, "recv_ns": recv_ns, "action": action_name(d.action),
              "target_speed_mps": round(d.target_speed_mps, 3), "overridden": d.overridden,
              "override_reason": d.override_reason, "model_id": d.model_id,
              "modalities_used": list(d.modalities_used), "gap_m": round(sc.gap(), 2), "ego_speed_mps": round(sc.v, 3)})
        return True

    for k in range(ticks + 1):
        stamp = start_ns + k * TICK_NS
        if not a.lockstep:
            # Real time: wait for this tick's wall time; take every decision that came meanwhile.
            delay = wall0 + k * TICK_NS / 1e9 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            while not decisions.empty():
                apply(decisions.get_nowait())
        for topic, payload, qos in sc.messages(stamp):
            if camera_delay_ns and topic == t.camera:
                held.append((stamp + camera_delay_ns, topic, payload, qos))
                continue
            client.publish(topic, payload, qos=qos)
            counts[topic.split("/", 2)[2]] = counts.get(topic.split("/", 2)[2], 0) + 1
        # Camera frames whose delivery time has come; at the end, the rest when theirs comes (none is lost).
        while held and (held[0][0] <= stamp or k == ticks or sc.collision or still_ticks > 200):
            due, topic, payload, qos = held.pop(0)
            wait = wall0 + (due - start_ns) / 1e9 - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            client.publish(topic, payload, qos=qos)
            counts[topic.split("/", 2)[2]] = counts.get(topic.split("/", 2)[2], 0) + 1
        last = k == ticks or sc.collision or still_ticks > 200
        if a.lockstep and k % STEP_TICKS == 0:
            step = P.SimStep(step=k // STEP_TICKS, episode_id=f"python-scripted-{a.seed}", seed=a.seed,
                             dt_ns=STEP_TICKS * TICK_NS, done=last)
            set_stamp(step.stamp, stamp)
            client.publish(t.step, step.SerializeToString(), qos=1).wait_for_publish()
            counts["sim/step"] = counts.get("sim/step", 0) + 1
            if not last:
                deadline = time.monotonic() + a.timeout
                while True:
                    try:
                        item = decisions.get(timeout=max(0.0, deadline - time.monotonic()))
                    except queue.Empty:
                        timeouts += 1  # hold: keep the last command
                        break
                    if apply(item, stamp):
                        break
        if last and (not a.lockstep or k % STEP_TICKS == 0):
            break
        sc.step_physics(closed_loop=not a.open_loop)
        still_ticks = still_ticks + 1 if sc.v < 0.05 else 0

    time.sleep(0.3)  # decisions still on their way for the last frames
    while not decisions.empty():
        item = decisions.get_nowait()
        if not a.lockstep:
            apply(item)
    client.disconnect()
    client.loop_stop()
    emit({"summary": {"published": counts, "decisions": received, "timeouts": timeouts, "stale": stale,
                      "collision": sc.collision, "min_gap_m": round(sc.min_gap, 2), "final_speed_mps": round(sc.v, 3),
                      "stopped": sc.v < 0.05, "sim_s": round(sc.tick * TICK_NS / 1e9, 2),
                      "wall_s": round(time.monotonic() - wall0, 2)}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
