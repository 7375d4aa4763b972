import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot, packageVersion } from "./package.js";

/**
 * What `--version` and containerd_exporter_build_info say about this build.
 * `npm run build` writes the git revision and branch into dist/src/build-info.json
 * (from REVISION/BRANCH when set, as in an image build without .git, else from git);
 * run from source, git is asked directly. "unknown" when neither can tell.
 */
export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  nodeVersion: string;
}

/** dist/src/build-info.json beside the compiled util/ directory; src/build-info.json never exists. */
const BUILD_INFO_FILE = join(dirname(dirname(fileURLToPath(import.meta.url))), "build-info.json");

function git(args: string[], cwd: string): string | undefined {
  try {
    const out = execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 2000 }).trim();
    return out === "" ? undefined : out;
  } catch {
    return undefined;
  }
}

/** The revision and branch of the checkout at build time. */
export function sourceRevision(env: NodeJS.ProcessEnv = process.env): { revision: string; branch: string } {
  const root = packageRoot();
  const inGit = existsSync(join(root, ".git"));
  return {
    revision: env.REVISION || (inGit ? git(["rev-parse", "HEAD"], root) : undefined) || "unknown",
    branch: env.BRANCH || (inGit ? git(["rev-parse", "--abbrev-ref", "HEAD"], root) : undefined) || "unknown",
  };
}

let cached: BuildInfo | undefined;

export function buildInfo(): BuildInfo {
  if (cached) return cached;
  let recorded: { revision: string; branch: string } | undefined;
  if (existsSync(BUILD_INFO_FILE)) recorded = JSON.parse(readFileSync(BUILD_INFO_FILE, "utf8")) as typeof recorded;
  cached = { version: packageVersion(), ...(recorded ?? sourceRevision()), nodeVersion: process.version };
  return cached;
}

/** Prometheus' own `--version` layout. */
export function versionText(info: BuildInfo = buildInfo()): string {
  return [
    `containerd-orphan-exporter, version ${info.version} (branch: ${info.branch}, revision: ${info.revision})`,
    `  node version: ${info.nodeVersion}`,
    `  platform: ${process.platform}/${process.arch}`,
  ].join("\n");
}

/** Run by `npm run build` after tsc: records the revision in the compiled tree. */
export function writeBuildInfo(): string {
  writeFileSync(BUILD_INFO_FILE, `${JSON.stringify(sourceRevision())}\n`);
  return BUILD_INFO_FILE;
}
