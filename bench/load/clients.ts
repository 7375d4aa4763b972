// The load run's client side, in its own process so that its CPU does not slow the probe of
// /healthz in run.ts: runs the attacks against 127.0.0.1:PORT for SECONDS and prints their
// figures as one JSON line.
import { headerTricks, pipeliners, scrapers, shrinkingTimeouts, type Target } from "./attacks.js";

const [portText, secondsText, connectionsText, onlyText] = process.argv.slice(2);
const target: Target = { host: "127.0.0.1", port: Number(portText) };
const until = Date.now() + Number(secondsText) * 1000;
const running = () => Date.now() < until;
const all = {
  scrapers: () => scrapers(target, Number(connectionsText), running),
  pipeliners: () => pipeliners(target, 8, 1000, running),
  shrinkingTimeouts: () => shrinkingTimeouts(target, running),
  headerTricks: () => headerTricks(target, 50, running),
};
const chosen = onlyText ? onlyText.split(",") : Object.keys(all);
const attacks = Object.fromEntries(Object.entries(all).filter(([name]) => chosen.includes(name)).map(([name, start]) => [name, start()]));
/** Prints the figures, then exits once stdout (a pipe) has taken them. */
const report = () =>
  process.stdout.write(`${JSON.stringify(Object.fromEntries(Object.entries(attacks).map(([name, a]) => [name, a.stats])))}\n`, () =>
    process.exit(0),
  );
// An exporter that stops answering must not keep the clients forever.
setTimeout(report, (Number(secondsText) + 25) * 1000);
await Promise.all(Object.values(attacks).map((a) => a.done));
report();
