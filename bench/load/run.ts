// A bounded load run against the exporter as its own process, fed by an in-process fake
// containerd, with the clients in a third process (clients.ts): 200 keep-alive scrapers for 60 s, plus pipelined scrapes that are never read,
// bursts of shrinking scrape timeouts, slow and oversized headers. Measures the exporter's peak
// RSS and how long /healthz takes meanwhile. Loopback only; connections and time are capped.
//
//   npm run bench:load                       # this checkout, 60 s
//   npm run bench:load -- --root=/other/checkout --seconds=30 --out=result.json
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { parseArgs } from "node:util";
import { freePort } from "../../test/lab/ports.js";
import { peakRssKb, rssKb } from "../proc.js";

const TARGETS = { peakRssMb: 300, healthzMs: 1000 };
const LIMITS = { seconds: 120, connections: 500 };

const { values } = parseArgs({
  options: {
    root: { type: "string", default: new URL("../..", import.meta.url).pathname },
    seconds: { type: "string", default: "60" },
    connections: { type: "string", default: "200" },
    namespaces: { type: "string", default: "10" },
    out: { type: "string" },
    /** Comma-separated subset of the attacks, to see what costs what. */
    only: { type: "string" },
  },
});
const seconds = Math.min(Number(values.seconds), LIMITS.seconds);
const connections = Math.min(Number(values.connections), LIMITS.connections);

/** /healthz on a fresh connection; its time in ms, or Infinity when it does not answer within 5 s. */
function probe(port: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = httpGet({ host: "127.0.0.1", port, path: "/healthz", agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200 ? performance.now() - started : Infinity));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(Infinity));
  });
}

async function waitListening(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error("the exporter exited before listening");
    if ((await probe(port)) < Infinity) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the exporter did not listen within 30 s");
}

async function main(): Promise<void> {
  const here = new URL("../..", import.meta.url).pathname;
  const fake = spawn(process.execPath, ["--import", "tsx", "bench/load/fake.ts", String(values.namespaces)], {
    cwd: here,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const fakeLines: string[] = [];
  let fakeOut = "";
  const fakeLine = () =>
    new Promise<string>((resolve) => {
      const check = () => {
        const cut = fakeOut.indexOf("\n");
        if (cut === -1) return false;
        fakeLines.push(fakeOut.slice(0, cut));
        fakeOut = fakeOut.slice(cut + 1);
        resolve(fakeLines.at(-1) as string);
        return true;
      };
      if (check()) return;
      const onData = (chunk: Buffer) => {
        fakeOut += chunk.toString();
        if (check()) fake.stdout?.off("data", onData);
      };
      fake.stdout?.on("data", onData);
    });
  const socketPath = await fakeLine();
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "serve", `--containerd.address=${socketPath}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=error"],
    { cwd: values.root, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  let exitedAt: number | undefined;
  const started = Date.now();
  child.once("exit", () => (exitedAt = (Date.now() - started) / 1000));
  try {
    await waitListening(port, child);
    const pid = child.pid as number;
    const baselineRssMb = rssKb(pid) / 1024;
    const until = Date.now() + seconds * 1000;
    const running = () => Date.now() < until && exitedAt === undefined;

    let peakMb = baselineRssMb;
    const sampler = setInterval(() => {
      if (exitedAt === undefined) peakMb = Math.max(peakMb, rssKb(pid) / 1024);
    }, 250);
    const clients = spawn(
      process.execPath,
      ["--import", "tsx", "bench/load/clients.ts", String(port), String(seconds), String(connections), values.only ?? ""],
      { cwd: here, stdio: ["ignore", "pipe", "inherit"] },
    );
    let clientOutput = "";
    clients.stdout?.on("data", (chunk: Buffer) => (clientOutput += chunk.toString()));
    const clientsDone = new Promise<void>((resolve) => clients.once("close", () => resolve()));
    const healthz: number[] = [];
    while (running()) {
      healthz.push(await probe(port));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await clientsDone;
    clearInterval(sampler);
    if (exitedAt === undefined) peakMb = Math.max(peakMb, peakRssKb(pid) / 1024);
    const attacks = JSON.parse(clientOutput.trim().split("\n").at(-1) || "{}") as Record<string, unknown>;

    fake.stdin?.write("counts\n");
    const counts = JSON.parse(await fakeLine()) as { reads: number; calls: number };
    const answered = healthz.filter((ms) => ms < Infinity);
    const sorted = [...answered].sort((a, b) => a - b);
    const result = {
      root: values.root,
      seconds,
      connections,
      exporterExitedAtSeconds: exitedAt ?? null,
      baselineRssMb: Math.round(baselineRssMb),
      peakRssMb: Math.round(peakMb),
      healthz: {
        probes: healthz.length,
        unanswered: healthz.length - answered.length,
        p50Ms: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
        p99Ms: Math.round(sorted[Math.floor(sorted.length * 0.99)] ?? 0),
        maxMs: healthz.length ? (answered.length === healthz.length ? Math.round(Math.max(...answered)) : "no answer") : null,
      },
      containerdReads: counts.reads,
      containerdCalls: counts.calls,
      attacks,
      ...(exitedAt !== undefined ? { exporterStderrTail: stderr.slice(-600) } : {}),
    };
    const met =
      exitedAt === undefined &&
      result.peakRssMb < TARGETS.peakRssMb &&
      result.healthz.unanswered === 0 &&
      typeof result.healthz.maxMs === "number" &&
      result.healthz.maxMs < TARGETS.healthzMs;
    console.log(JSON.stringify({ ...result, targets: TARGETS, met }, null, 2));
    if (values.out) writeFileSync(values.out, `${JSON.stringify({ ...result, targets: TARGETS, met }, null, 2)}\n`);
    process.exitCode = met ? 0 : 1;
  } finally {
    child.kill("SIGKILL");
    fake.stdin?.end();
  }
}

await main();
process.exit();
