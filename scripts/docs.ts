// Rewrites the generated config reference inside README.md.
import fs from "node:fs";
import { replaceReference } from "../generator/config/reference.ts";

const readme = fs.readFileSync("README.md", "utf8");
const next = replaceReference(readme);
if (next !== readme) fs.writeFileSync("README.md", next);
console.log(next === readme ? "README.md config reference is up to date" : "README.md config reference updated");
