/**
 * The Intelligent Driver Model (Treiber, Hennecke, Helbing 2000) and the MOBIL lane-change criterion
 * (Kesting, Treiber, Helbing 2007), as used by the traffic and by the expert.
 */

export interface IdmParams {
  /** Desired speed, m/s. */
  v0: number;
  /** Desired time headway, s. */
  T: number;
  /** Jam distance, m. */
  s0: number;
  /** Maximum acceleration and comfortable deceleration, m/s². */
  a: number;
  b: number;
}

export const DEFAULT_IDM: Omit<IdmParams, "v0"> = { T: 1.4, s0: 2.5, a: 1.5, b: 2.0 };

/** Largest deceleration IDM may ask for (physical braking limit), m/s². */
export const MAX_BRAKE = 9;

/**
 * IDM acceleration for a follower at speed v behind a leader `gap` metres ahead (bumper to bumper)
 * moving at vLead. gap = Infinity means free road.
 */
export function idmAccel(p: IdmParams, v: number, gap: number, vLead: number): number {
  const v0 = Math.max(p.v0, 0.1);
  const free = 1 - Math.pow(v / v0, 4);
  let acc = p.a * free;
  if (gap < Infinity) {
    const g = Math.max(gap, 0.1);
    const sStar = p.s0 + Math.max(0, v * p.T + (v * (v - vLead)) / (2 * Math.sqrt(p.a * p.b)));
    acc -= p.a * (sStar / g) * (sStar / g);
  }
  // Above the desired speed (e.g. entering a lower limit) brake no harder than comfortable.
  if (v > v0 && gap === Infinity) acc = Math.max(acc, -p.b);
  return Math.max(-MAX_BRAKE, acc);
}

export interface MobilParams {
  politeness: number;
  /** Incentive threshold, m/s². */
  threshold: number;
  /** Safe deceleration imposed on the new follower, m/s² (positive). */
  bSafe: number;
  /** Bias toward the right lane (keep-right rule), m/s². */
  rightBias: number;
}

export const DEFAULT_MOBIL: MobilParams = { politeness: 0.3, threshold: 0.2, bSafe: 3, rightBias: 0.1 };

/**
 * MOBIL: is a change worth it and safe? Accelerations are IDM values for: the subject now (accOld) and
 * after the change (accNew); its new follower before (nfOld) and after (nfNew); its old follower before
 * (ofOld) and after (ofNew). toRight adds the keep-right bias.
 */
export function mobilIncentive(
  m: MobilParams,
  acc: { accOld: number; accNew: number; nfOld: number; nfNew: number; ofOld: number; ofNew: number },
  toRight: boolean,
): { safe: boolean; incentive: number } {
  const safe = acc.nfNew >= -m.bSafe;
  const incentive =
    acc.accNew - acc.accOld + m.politeness * (acc.nfNew - acc.nfOld + acc.ofNew - acc.ofOld) + (toRight ? m.rightBias : -m.rightBias);
  return { safe, incentive: incentive - m.threshold };
}
