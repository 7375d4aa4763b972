#!/usr/bin/env node
// First: sizes the heap before anything else allocates (heap.ts).
import "./heap.js";
import { type Config, loadConfig } from "../config/config.js";
import { FlagError, Flags, helpText, parseArgs } from "../config/flags.js";
import { dfReport } from "../inventory/report.js";
import type { PruneReport } from "../prune/pruner.js";
import { buildInfo, versionText } from "../util/build-info.js";
import { renderDf } from "./df.js";
import { downReason, renderInventory } from "./inventory.js";
import { createLogger } from "./logger.js";
import { missingNamespaces } from "./namespaces.js";
import { renderPruneReport } from "./prune.js";
import { remotePrune } from "./remote-prune.js";
import { createRuntime, type Runtime } from "./runtime.js";
import { serve } from "./serve.js";

const print = (text: string) => process.stdout.write(text);
const json = (value: unknown) => print(`${JSON.stringify(value, null, 2)}\n`);

/** A failure the command explains in one plain line and exit status 1. */
class CommandError extends Error {}

function prune(flags: Flags, config: Config, runtime: Runtime): Promise<PruneReport> {
  const namespaces = flags.strings("namespace");
  const leases = flags.strings("lease");
  if (flags.has("admin.url")) {
    return remotePrune({
      url: flags.string("admin.url"),
      token: config.adminToken,
      version: buildInfo().version,
      body: {
        dryRun: flags.boolean("dry-run"),
        ...(namespaces.length ? { namespaces } : {}),
        ...(leases.length ? { leases } : {}),
        ...(flags.has("lease-stale-after") ? { leaseStaleAfter: flags.string("lease-stale-after") } : {}),
      },
    });
  }
  return runtime.pruner.run({
    dryRun: flags.boolean("dry-run"),
    namespaces,
    leases,
    abortIngests: true,
    policy: config.policy,
    client: "cli",
    trigger: "cli",
  });
}

/** One-shot commands: read containerd once, print, exit (non-zero on failure). */
async function oneShot(command: "inventory" | "df" | "prune", flags: Flags, config: Config): Promise<number> {
  // Reports go to stdout. stderr carries the prune's audit lines, and plain messages with --log.level.
  const log = createLogger({ level: config.logLevel, format: config.logFormat, command: { verbose: flags.given("log.level") } });
  const runtime = createRuntime(config, log);
  try {
    const deadline = Date.now() + config.scrapeTimeoutMs;
    if (!(command === "prune" && flags.has("admin.url"))) {
      const missing = await missingNamespaces(runtime.client, config.namespaces, deadline, config.namespacesSource);
      if (missing) throw new CommandError(missing);
    }
    if (command === "inventory") {
      const inventory = await runtime.reader.read(deadline);
      if (flags.boolean("json")) json(inventory);
      else if (inventory.up) print(renderInventory(inventory));
      if (!inventory.up) throw new CommandError(`containerd did not answer: ${downReason(inventory)}`);
      return 0;
    }
    if (command === "df") {
      const report = dfReport(await runtime.source.classified(deadline));
      if (flags.boolean("json")) json(report);
      else if (report.up) print(renderDf(report));
      if (!report.up) throw new CommandError(`containerd did not answer: ${downReason(report)}`);
      return 0;
    }
    const report = await prune(flags, config, runtime);
    if (flags.boolean("json")) json(report);
    else print(renderPruneReport(report));
    return report.bytes.measurementError === undefined ? 0 : 1;
  } finally {
    runtime.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv, process.env);
  if (parsed.help) {
    print(`${helpText(buildInfo().version)}\n`);
    return 0;
  }
  if (parsed.version) {
    print(`${versionText()}\n`);
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
