import { readFileSync } from "node:fs";

/** fusiond's version, from package.json: what recordings and fleet jobs say wrote them. */
export const FUSIOND_VERSION: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
