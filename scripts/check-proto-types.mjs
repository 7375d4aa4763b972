// Fails when the committed TypeScript types under src/containerd/generated no
// longer match what proto-loader-gen-types produces from proto/.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const committed = "src/containerd/generated";
const fresh = mkdtempSync(join(tmpdir(), "proto-types-"));

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

try {
  const script = JSON.parse(readFileSync("package.json", "utf8")).scripts["proto:gen"];
  const args = script.split(/\s+/).slice(1).map((arg) =>
    arg.startsWith("--outDir=") ? `--outDir=${fresh}` : arg,
  );
  execFileSync("node_modules/.bin/proto-loader-gen-types", args, { stdio: "inherit" });
  const want = new Map(listFiles(fresh).map((f) => [relative(fresh, f), readFileSync(f, "utf8")]));
  const have = new Map(listFiles(committed).map((f) => [relative(committed, f), readFileSync(f, "utf8")]));
  const drift = [...new Set([...want.keys(), ...have.keys()])]
    .filter((name) => want.get(name) !== have.get(name))
    .sort();
  if (drift.length > 0) {
    console.error(`generated types drifted from proto/ (run \`npm run proto:gen\`):\n  ${drift.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`proto types up to date (${want.size} files)`);
} finally {
  rmSync(fresh, { recursive: true, force: true });
}
