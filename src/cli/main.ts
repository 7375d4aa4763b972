#!/usr/bin/env node
// First: sizes the heap before anything else allocates (heap.ts).
import "./heap.js";
import { type Config, loadConfig } from "../config/config.js";
import { FlagError, Flags, helpText, parseArgs } from "../config/flags.js";
import { dfReport } from "../inventory/report.js";
import { packageVersion } from "../util/package.js";
import { renderDf } from "./df.js";
import { createLogger } from "./logger.js";
import { renderPruneReport } from "./prune.js";
import { createRuntime } from "./runtime.js";
import { serve } from "./serve.js";

const print = (text: string) => process.stdout.write(text);
const json = (value: unknown) => print(`${JSON.stringify(value, null, 2)}\n`);

/** One-shot commands: read containerd once, print, exit (non-zero on failure). */
async function oneShot(command: "inventory" | "df" | "prune", flags: Flags, config: Config): Promise<number> {
  // Reports go to stdout; stderr carries warnings, and for prune its audit lines.
  const quiet = command !== "prune" && !flags.has("log.level");
  const runtime = createRuntime(config, createLogger(quiet ? "warn" : config.logLevel));
  try {
    const deadline = Date.now() + config.scrapeTimeoutMs;
    if (command === "inventory") {
      const inventory = await runtime.reader.read(deadline);
      json(inventory);
      return inventory.up ? 0 : 1;
    }
    if (command === "df") {
      const report = dfReport(await runtime.source.classified(deadline));
      if (flags.boolean("json")) json(report);
      else print(renderDf(report));
      return report.up ? 0 : 1;
    }
    const report = await runtime.pruner.run({
      dryRun: flags.boolean("dry-run"),
      namespaces: flags.strings("namespace"),
      leases: flags.strings("lease"),
      abortIngests: true,
      policy: config.policy,
      client: "cli",
    });
    if (flags.boolean("json")) json(report);
    else print(renderPruneReport(report));
    return 0;
  } finally {
    runtime.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv, process.env);
  if (parsed.help) {
    print(`${helpText(packageVersion())}\n`);
    return 0;
  }
  if (parsed.version) {
    print(`containerd-orphan-exporter ${packageVersion()}\n`);
    return 0;
  }
  const flags = new Flags(parsed);
  const config = loadConfig(flags, process.env);
  if (parsed.command === "serve") {
    await serve(config);
    return -1; // keeps running until a signal
  }
  return oneShot(parsed.command, flags, config);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    const usage = error instanceof FlagError;
    process.stderr.write(`containerd-orphan-exporter: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
