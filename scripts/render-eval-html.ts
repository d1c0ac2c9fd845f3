/**
 * Renders an eval report's HTML page again from its JSON, without running the evaluation again (the page's
 * layout changed, the numbers did not):
 *   npx tsx scripts/render-eval-html.ts docs/reports/strategies.json docs/reports/strategies.html
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { renderHtml } from "../eval/score/html.ts";
import { EvalReportSchema, type EvalReport } from "../eval/score/report.ts";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  process.stderr.write("usage: npx tsx scripts/render-eval-html.ts REPORT.json OUT.html\n");
  process.exit(2);
}
const report = EvalReportSchema.parse(JSON.parse(readFileSync(input, "utf8"))) as EvalReport;
writeFileSync(`${output}.partial`, renderHtml(report));
renameSync(`${output}.partial`, output);
process.stderr.write(`wrote ${output}\n`);
