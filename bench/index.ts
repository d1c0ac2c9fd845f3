/** `npm run bench [-- NAME...] [--json FILE]`: runs every bench/*.bench.ts suite (see harness.ts). */
import { readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatRows, ratioOf, type BenchRow, type BenchSuite } from "./harness.ts";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const jsonAt = args.indexOf("--json");
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const wanted = args.filter((a, i) => !a.startsWith("--") && (jsonAt < 0 || i !== jsonAt + 1));

const files = readdirSync(here).filter((f) => f.endsWith(".bench.ts")).sort();
const all: Array<BenchRow & { suite: string; ratio?: number }> = [];
console.log(`fusiond bench — node ${process.version}, ${new Date().toISOString()}`);
for (const file of files) {
  const suite = (await import(pathToFileURL(join(here, file)).href)).default as BenchSuite;
  if (wanted.length && !wanted.includes(suite.name)) continue;
  console.log(`\n## ${suite.name}: ${suite.description}\n`);
  const rows = await suite.run((line) => console.log(`  ${line}`));
  console.log(formatRows(rows));
  for (const r of rows) {
    const ratio = ratioOf(r);
    all.push({ ...r, suite: suite.name, ...(ratio === undefined ? {} : { ratio }) });
  }
}
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(all, null, 2));
