/**
 * The supervisor's one combinator: folds the rules (rules/, one per file) over a proposed decision in this
 * order, each rule seeing what the ones before it let through.
 *
 *  before the model   1. sensors-stale   camera and radar both stale or missing → STOP
 *  after the model    2. ttc             radar TTC under the threshold → DECELERATE / BRAKE_HARD
 *                     3. envelope        the deceleration a closing return needs: target-speed cap, BRAKE_HARD above 4 m/s²
 *                     4. standstill-gap  a closing return inside 5 m → STOP
 *
 * Why this order:
 *  - Rule 1 comes first and alone, before any model runs: with neither camera nor radar fresh there is
 *    nothing to check an answer against, so the car stops without asking (the decision says `rules` and no
 *    model action), and the radar rules after it do not run (the radar they would read is stale).
 *  - Rules 2–4 then go from the whole lane to the last metres: TTC over the ego lane, the braking the nearest
 *    closing return needs, the standstill gap. Each only makes the action more cautious, and each acts only on
 *    actions still unsafe after the ones before it: a KEEP that rule 2 turned into DECELERATE is not also
 *    stopped by rule 4, and rule 3 escalates whatever rule 2 chose to BRAKE_HARD when the braking needs it.
 *    This is the order the engine applied them in by hand before they were rules, so decisions and override
 *    details are what they were (checked on the golden drive and the held-out closed-loop drives).
 *
 * Overrides merge in one place, here: the latest rule that changed the action gives the reason, and the
 * details read latest first, joined by "; " (the engine's fallback or model-error override, handed in with
 * the proposal, comes last).
 */
import { envelope } from "./rules/envelope.ts";
import { sensorsStale } from "./rules/sensors-stale.ts";
import { standstillGap } from "./rules/standstill-gap.ts";
import { ttc } from "./rules/ttc.ts";
import type { Override, Proposal, Rule, SensorFacts, SupervisorConfig } from "./supervisor.ts";

/** The rules in the order they are folded (above). */
export const SUPERVISOR_RULES: { readonly beforeModel: readonly Rule[]; readonly afterModel: readonly Rule[] } = {
  beforeModel: [sensorsStale],
  afterModel: [ttc, envelope, standstillGap],
};

/** The supervised decision: the action, the target-speed cap, and the merged override (none: unchanged). */
export interface Verdict extends Proposal {
  override?: Override;
}

/** Merges a rule's override onto what came before: its reason wins, its detail is read first. */
export function mergeOverride(earlier: Override | undefined, later: Override | undefined): Override | undefined {
  if (!later) return earlier;
  return earlier ? { reason: later.reason, detail: `${later.detail}; ${earlier.detail}` } : later;
}

/**
 * What the before-model rules are handed: the engine's own answer when no model decides (a missing critical
 * sensor without a fallback model gets the same), DECELERATE.
 */
export const NO_MODEL: Proposal = { action: "DECELERATE", envelopeDecelMps2: 0 };

/** Folds `rules` in order over `proposed` (with the override it already carries, if any). */
export function supervise(rules: readonly Rule[], proposed: Verdict, facts: SensorFacts, cfg: SupervisorConfig): Verdict {
  let proposal: Proposal = { action: proposed.action, envelopeDecelMps2: proposed.envelopeDecelMps2 };
  let override = proposed.override;
  for (const rule of rules) {
    const out = rule(proposal, facts, cfg);
    proposal = out.proposal;
    override = mergeOverride(override, out.override);
  }
  return { ...proposal, ...(override ? { override } : {}) };
}
