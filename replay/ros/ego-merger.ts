/**
 * Builds fusiond.EgoState from two ROS streams: the motion (Odometry or Twist: speed, yaw rate) and an Imu
 * (longitudinal acceleration, optionally the yaw rate). A motion sample is paired with the Imu sample whose
 * stamp is within `toleranceNs` of its own; one that finds none within `windowNs` of receive time goes out
 * without an acceleration (missing, not zero). Pure: no clock, no I/O.
 */
import { nsToTimestamp } from "../../schemas/index.ts";

export interface MotionSample {
  stampNs: bigint;
  receiveNs: bigint;
  speed: number;
  yawRate: number;
  frameId: string;
}
export interface ImuSample {
  stampNs: bigint;
  accel: number;
  yawRate: number;
}
export interface EgoOut {
  stampNs: bigint;
  receiveNs: bigint;
  message: Record<string, unknown>;
  paired: boolean;
}

const IMU_KEPT = 64;

export interface EgoMergerOptions {
  /** Largest stamp difference of a motion sample and the Imu sample it is paired with, ns. */
  toleranceNs: bigint;
  /** How long (receive time) a motion sample waits for its Imu sample, ns. */
  windowNs: bigint;
  /** Take the yaw rate from the Imu. */
  yawFromImu: boolean;
  /** How long a lane_index / lane_change value from its own topic is held, ns of receive time. */
  scalarMaxAgeNs: bigint;
}

export class EgoMerger {
  private readonly pending: MotionSample[] = [];
  private readonly imus: ImuSample[] = [];
  /** The latest value of each scalar field (lane_index, lane_change) from its own topic, with its receive time. */
  private readonly scalars = new Map<string, { value: number; receiveNs: bigint }>();

  /** The options may be changed between calls (the converter learns of the Imu's rule on its first message). */
  constructor(
    private readonly emit: (e: EgoOut) => void,
    readonly options: EgoMergerOptions,
  ) {}

  motion(s: MotionSample): void {
    this.expire(s.receiveNs);
    const imu = this.nearestImu(s.stampNs);
    if (imu) this.out(s, imu);
    else this.pending.push(s);
  }

  imu(s: ImuSample, receiveNs: bigint): void {
    this.imus.push(s);
    if (this.imus.length > IMU_KEPT) this.imus.shift();
    for (let i = 0; i < this.pending.length; ) {
      const p = this.pending[i]!;
      if (abs(p.stampNs - s.stampNs) <= this.options.toleranceNs) {
        this.pending.splice(i, 1);
        this.out(p, s);
      } else i++;
    }
    this.expire(receiveNs);
  }

  /**
   * A field no motion type carries, from a topic of its own (std_msgs integers): held and written into every
   * ego state until a newer one comes, for at most `scalarMaxAgeNs` of receive time (then missing again).
   */
  scalar(field: string, value: number, receiveNs: bigint): void {
    this.scalars.set(field, { value, receiveNs });
  }

  /** Lets samples that waited longer than the window go out (call with each input's receive time). */
  expire(nowNs: bigint): void {
    while (this.pending.length > 0 && nowNs - this.pending[0]!.receiveNs > this.options.windowNs) this.out(this.pending.shift()!, undefined);
  }

  /** Emits everything still waiting (end of input). */
  end(): void {
    while (this.pending.length > 0) this.out(this.pending.shift()!, undefined);
  }

  private nearestImu(stampNs: bigint): ImuSample | undefined {
    let best: ImuSample | undefined;
    for (const s of this.imus) {
      const d = abs(s.stampNs - stampNs);
      if (d <= this.options.toleranceNs && (!best || d < abs(best.stampNs - stampNs))) best = s;
    }
    return best;
  }

  private out(s: MotionSample, imu: ImuSample | undefined): void {
    const message: Record<string, unknown> = {
      timestamp: nsToTimestamp(s.stampNs),
      speed_mps: s.speed,
      yaw_rate_rps: imu && this.options.yawFromImu ? imu.yawRate : s.yawRate,
      frame_id: s.frameId,
    };
    if (imu) message["accel_mps2"] = imu.accel;
    for (const [field, held] of this.scalars) {
      const age = s.receiveNs - held.receiveNs;
      if (age >= -this.options.toleranceNs && age <= this.options.scalarMaxAgeNs) message[field] = held.value;
    }
    this.emit({ stampNs: s.stampNs, receiveNs: s.receiveNs, message, paired: imu !== undefined });
  }
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);
