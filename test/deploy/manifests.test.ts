// Static checks of the deployment artefacts (deploy/, Dockerfile): they must agree with each
// other and with the exporter's own flags. No containerd, cluster or container engine needed.
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, posix } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { render, sourcePath } from "../../deploy/gen-prometheusrule.mjs";
import { Flags, parseArgs } from "../../src/config/flags.js";

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const K8S = join(ROOT, "deploy/kubernetes");

// Manifests are free-form YAML; the assertions are the type checks.
type Obj = Record<string, any>;

function load(path: string): Obj {
  const doc = YAML.parseDocument(readFileSync(path, "utf8"), { prettyErrors: true });
  if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join("; ")}`);
  return doc.toJS() as Obj;
}

const k8s = (file: string): Obj => load(join(K8S, file));

/** "host:port", ":port", "[::1]:port" -> { host, port }. */
function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  expect(i, `address ${address} has a port`).toBeGreaterThanOrEqual(0);
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(address.slice(i + 1)) };
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const KNOWN_SOCKETS = [
  "/run/containerd/containerd.sock",
  "/run/docker/containerd/containerd.sock",
  "/run/k3s/containerd/containerd.sock",
];

function expectSubset(selector: Record<string, string>, labels: Record<string, string>, what: string): void {
  expect(Object.keys(selector).length, `${what} selects something`).toBeGreaterThan(0);
  for (const [k, v] of Object.entries(selector)) expect(labels[k], `${what}: label ${k}`).toBe(v);
}

/** The job regexes the alerts select exporters with (job=~"..."). */
function alertJobRegexes(): RegExp[] {
  const text = readFileSync(sourcePath, "utf8");
  const found = new Set([...text.matchAll(/job=~"([^"]+)"/g)].map((m) => m[1] as string));
  return [...found].map((r) => new RegExp(`^(?:${r})$`));
}

describe("kubernetes DaemonSet", () => {
  const ds = k8s("daemonset.yaml");
  const pod = ds.spec.template.spec as Obj;
  const container = (pod.containers as Obj[])[0] as Obj;
  const args = container.args as string[];
  const parsed = parseArgs(args, {});
  const flags = new Flags(parsed);
  const ports = container.ports as Obj[];
  const mounts = container.volumeMounts as Obj[];
  const volumes = pod.volumes as Obj[];
  const metricsPort = ports.find((p) => p.name === "metrics");

  it("is a DaemonSet in namespace monitoring whose selector matches its pods", () => {
    expect(ds.apiVersion).toBe("apps/v1");
    expect(ds.kind).toBe("DaemonSet");
    expect(ds.metadata.namespace).toBe("monitoring");
    expectSubset(ds.spec.selector.matchLabels, ds.spec.template.metadata.labels, "DaemonSet selector");
    expect(pod.containers).toHaveLength(1);
  });

  it("runs `serve` with flags the exporter knows", () => {
    expect(parsed.command).toBe("serve");
    expect(parsed.help).toBe(false);
    // parseArgs throws on unknown flags; every argument must be a flag or the command.
    expect(args.filter((a) => !a.startsWith("--"))).toEqual(["serve"]);
  });

  it("exposes the listen address' port as container port `metrics`", () => {
    expect(metricsPort, "a container port named metrics").toBeDefined();
    const listen = splitAddress(flags.string("web.listen-address"));
    expect(["", "0.0.0.0", "::"]).toContain(listen.host);
    expect(metricsPort?.containerPort).toBe(listen.port);
    expect(metricsPort?.protocol ?? "TCP").toBe("TCP");
  });

  it("probes /healthz on the metrics port", () => {
    for (const probe of ["readinessProbe", "livenessProbe"]) {
      expect(container[probe]?.httpGet, probe).toBeDefined();
      expect(container[probe].httpGet.path, probe).toBe("/healthz");
      expect(container[probe].httpGet.port, probe).toBe("metrics");
      expect(container[probe].httpGet.scheme ?? "HTTP", probe).toBe("HTTP");
    }
  });

  it("mounts the node's containerd socket (hostPath type Socket) where --containerd.address points", () => {
    const address = flags.string("containerd.address").replace(/^unix:(\/\/)?/, "");
    const mount = mounts.find((m) => m.mountPath === address);
    expect(mount, `a volumeMount at ${address}`).toBeDefined();
    const volume = volumes.find((v) => v.name === mount?.name);
    expect(volume?.hostPath?.type).toBe("Socket");
    expect(KNOWN_SOCKETS).toContain(volume?.hostPath?.path);
  });

  it("reads the admin token from the mounted Secret, never from argv or a literal env", () => {
    const tokenFile = flags.string("admin.token-file");
    expect(tokenFile, "--admin.token-file").not.toBe("");
    const mount = mounts.find((m) => m.mountPath === posix.dirname(tokenFile));
    expect(mount, `a volumeMount at ${posix.dirname(tokenFile)}`).toBeDefined();
    expect(mount?.readOnly).toBe(true);
    const volume = volumes.find((v) => v.name === mount?.name);
    expect(volume?.secret, "the token volume is a Secret").toBeDefined();
    const items = (volume?.secret.items ?? []) as Obj[];
    const key = items.length > 0 ? items.find((i) => i.path === posix.basename(tokenFile))?.key : posix.basename(tokenFile);
    expect(key, `the Secret provides ${posix.basename(tokenFile)}`).toBeDefined();

    const secret = k8s("secret.yaml");
    expect(secret.kind).toBe("Secret");
    expect(secret.metadata.name).toBe(volume?.secret.secretName);
    expect(secret.metadata.namespace).toBe(ds.metadata.namespace);
    expect({ ...secret.data, ...secret.stringData }).toHaveProperty(key as string);

    for (const e of (container.env ?? []) as Obj[]) {
      if (e.name === "ADMIN_TOKEN") expect(e.value, "ADMIN_TOKEN must come from valueFrom").toBeUndefined();
    }
    expect(args.some((a) => /token=(?!\/)/.test(a))).toBe(false);
  });

  it("binds the admin API to loopback, apart from the metrics port", () => {
    const admin = splitAddress(flags.string("admin.listen-address"));
    expect(LOOPBACK.has(admin.host), `admin host ${admin.host} is loopback`).toBe(true);
    expect(admin.port).not.toBe(metricsPort?.containerPort);
    expect(ports.map((p) => p.containerPort)).not.toContain(admin.port);
  });

  it("runs as root without privileges", () => {
    expect(pod.securityContext.runAsUser).toBe(0);
    expect(pod.securityContext.seccompProfile.type).toBe("RuntimeDefault");
    const sc = container.securityContext as Obj;
    expect(sc.capabilities.drop).toEqual(["ALL"]);
    expect(sc.capabilities.add ?? []).toEqual([]);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.privileged ?? false).toBe(false);
    expect(pod.hostNetwork ?? false).toBe(false);
    expect(pod.hostPID ?? false).toBe(false);
  });

  it("tolerates every taint and sets requests and limits", () => {
    expect(pod.tolerations).toContainEqual({ operator: "Exists" });
    const { requests, limits } = container.resources as Obj;
    for (const r of ["cpu", "memory"]) {
      expect(requests[r], `requests.${r}`).toBeDefined();
      expect(limits[r], `limits.${r}`).toBeDefined();
    }
  });
});

describe("kubernetes PodMonitor, Service, kustomization", () => {
  const ds = k8s("daemonset.yaml");
  const podLabels = ds.spec.template.metadata.labels as Record<string, string>;
  const container = ds.spec.template.spec.containers[0] as Obj;
  const flags = new Flags(parseArgs(container.args as string[], {}));

  it("PodMonitor scrapes the DaemonSet's pods on port `metrics` at the telemetry path", () => {
    const pm = k8s("podmonitor.yaml");
    expect(pm.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(pm.kind).toBe("PodMonitor");
    expect(pm.metadata.namespace).toBe(ds.metadata.namespace);
    expectSubset(pm.spec.selector.matchLabels, podLabels, "PodMonitor selector");
    const endpoints = pm.spec.podMetricsEndpoints as Obj[];
    expect(endpoints).toHaveLength(1);
    const [ep] = endpoints as [Obj];
    expect(ep.port).toBe("metrics");
    expect((container.ports as Obj[]).map((p) => p.name)).toContain(ep.port);
    expect(ep.path ?? "/metrics").toBe(flags.string("web.telemetry-path"));
    expect(ep.interval).toBe("30s");
    expect(ep.scrapeTimeout).toBe("10s");
  });

  it("PodMonitor's job label is one the alerts select", () => {
    const pm = k8s("podmonitor.yaml");
    // Without jobLabel the job would be "<namespace>/<podmonitor name>".
    const job = podLabels[pm.spec.jobLabel as string];
    expect(job, `pod label ${pm.spec.jobLabel}`).toBeDefined();
    const regexes = alertJobRegexes();
    expect(regexes.length).toBeGreaterThan(0);
    for (const r of regexes) expect(job, `job matches ${r}`).toMatch(r);
  });

  it("headless Service selects the pods and targets port `metrics`", () => {
    const svc = k8s("service.yaml");
    expect(svc.spec.clusterIP).toBe("None");
    expectSubset(svc.spec.selector, podLabels, "Service selector");
    expect(svc.spec.ports[0].targetPort).toBe("metrics");
  });

  it("kustomization lists every manifest except the placeholder Secret", () => {
    const kz = k8s("kustomization.yaml");
    expect(kz.namespace).toBe("monitoring");
    const resources = kz.resources as string[];
    for (const r of resources) expect(existsSync(join(K8S, r)), `${r} exists`).toBe(true);
    const manifests = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml");
    expect([...resources].sort()).toEqual(manifests.filter((f) => f !== "secret.yaml").sort());
    const images = (kz.images ?? []) as Obj[];
    const image = String(container.image);
    for (const i of images) expect(image.startsWith(`${i.name}:`), `${image} is ${i.name}`).toBe(true);
  });

  it("every object is in namespace monitoring and labelled as the exporter", () => {
    for (const f of readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml")) {
      const o = k8s(f);
      expect(o.metadata.namespace, f).toBe("monitoring");
      expect(o.metadata.labels?.["app.kubernetes.io/name"], f).toBe("containerd-orphan-exporter");
    }
  });
});

describe("PrometheusRule", () => {
  const present = existsSync(sourcePath);

  it.skipIf(!present)("is what deploy/gen-prometheusrule.mjs makes of alerts/containerd-orphans.rules.yml", () => {
    const expected = render(readFileSync(sourcePath, "utf8"));
    const actual = readFileSync(join(K8S, "prometheusrule.yaml"), "utf8");
    expect(actual, "run `node deploy/gen-prometheusrule.mjs`").toBe(expected);
  });

  it.skipIf(!present)("carries the same groups as the rule file", () => {
    const rule = k8s("prometheusrule.yaml");
    expect(rule.kind).toBe("PrometheusRule");
    expect(rule.spec.groups).toEqual(load(sourcePath).groups);
  });

  it("generator rejects what the operator would", () => {
    expect(() => render("groups: []\n")).toThrow(/non-empty/);
    expect(() => render("groups:\n  - name: g\n    rules:\n      - alert: A\n")).toThrow(/expr/);
    expect(() => render("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        severity: x\n")).toThrow(/unknown field/);
    const ok = render("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |-\n          up\n          == 0\n");
    expect(ok).toMatch(/^# Generated by deploy\/gen-prometheusrule\.mjs/);
    expect(YAML.parse(ok).spec.groups[0].rules[0].expr).toBe("up\n== 0");
  });
});

describe("docker-compose.yml", () => {
  const compose = load(join(ROOT, "deploy/docker-compose.yml"));
  const svc = compose.services.exporter as Obj;
  /** Compose interpolation, defaults only: ${VAR:-default} -> default. */
  const interpolate = (s: string): string => s.replace(/\$\{[A-Z0-9_]+:?-([^}]*)\}/g, "$1");
  const env = Object.fromEntries(Object.entries(svc.environment as Obj).map(([k, v]) => [k, interpolate(String(v))]));
  const flags = new Flags(parseArgs(svc.command as string[], env));

  it("mounts Docker's containerd socket where --containerd.address points", () => {
    const binds = (svc.volumes as string[]).map((v) => interpolate(v).split(":"));
    const target = flags.string("containerd.address").replace(/^unix:(\/\/)?/, "");
    const socket = binds.find((b) => b[1] === target);
    expect(socket?.[0]).toBe("/run/docker/containerd/containerd.sock");
    expect(flags.list("containerd.namespaces")).toEqual(["moby"]);
  });

  it("serves metrics on the image's port and the admin API on loopback", () => {
    expect(svc.network_mode).toBe("host");
    expect(splitAddress(flags.string("web.listen-address")).port).toBe(9977);
    expect(LOOPBACK.has(splitAddress(flags.string("admin.listen-address")).host)).toBe(true);
  });

  it("reads the admin token from a compose secret file", () => {
    const tokenFile = flags.string("admin.token-file");
    expect(posix.dirname(tokenFile)).toBe("/run/secrets");
    const name = posix.basename(tokenFile);
    expect((svc.secrets as Array<string | Obj>).map((s) => (typeof s === "string" ? s : s.source))).toContain(name);
    expect(compose.secrets[name].file).toBeDefined();
    expect(env.ADMIN_TOKEN).toBeUndefined();
  });

  it("runs unprivileged", () => {
    expect(svc.cap_drop).toEqual(["ALL"]);
    expect(svc.read_only).toBe(true);
    expect(svc.security_opt).toContain("no-new-privileges:true");
  });
});

describe("Dockerfile", () => {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8").replace(/\\\n/g, "");
  const instruction = (name: string): string[] =>
    text
      .split("\n")
      .filter((l) => new RegExp(`^${name}\\s`, "i").test(l))
      .map((l) => l.slice(name.length).trim());
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string> };
  const defaultListen = new Flags(parseArgs([], {})).string("web.listen-address");
  const healthcheck = JSON.parse(instruction("HEALTHCHECK")[0]?.replace(/^.*?CMD\s+/, "") ?? "null") as string[];

  it("runs the package's bin, exposes the default port, keeps the base image a build argument", () => {
    expect(JSON.parse(instruction("ENTRYPOINT")[0] ?? "null")).toEqual([
      "node",
      `/app/${pkg.bin["containerd-orphan-exporter"]}`,
    ]);
    expect(JSON.parse(instruction("CMD").at(-1) ?? "null")).toEqual(["serve"]);
    expect(instruction("EXPOSE")).toEqual([String(splitAddress(defaultListen).port)]);
    expect(instruction("ARG")).toContain("NODE_IMAGE=node:20-bookworm-slim");
    expect(instruction("FROM").every((f) => f.startsWith("${NODE_IMAGE}"))).toBe(true);
    expect(instruction("LABEL").join(" ")).toContain("org.opencontainers.image.source");
  });

  it("has an exec-form HEALTHCHECK that runs node without a shell", () => {
    expect(healthcheck.slice(0, 2)).toEqual(["node", "-e"]);
    expect(healthcheck[2]).toContain("/healthz");
  });

  describe("the HEALTHCHECK script", () => {
    let server: Server;
    let status = 200;
    let port = 0;
    beforeAll(async () => {
      server = createServer((req, res) => {
        res.statusCode = req.url === "/healthz" ? status : 404;
        res.end("ok\n");
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const probe = async (address: string): Promise<number> => {
      const env = { ...process.env, CONTAINERD_ORPHAN_EXPORTER_WEB_LISTEN_ADDRESS: address };
      try {
        await run(process.execPath, ["-e", healthcheck[2] as string], { env, timeout: 10_000 });
        return 0;
      } catch (error) {
        return (error as { code?: number }).code ?? -1;
      }
    };

    it("exits 0 on 200 (or 401: basic auth), 1 on another status or a refused connection", async () => {
      status = 200;
      expect(await probe(`:${port}`)).toBe(0);
      expect(await probe(`0.0.0.0:${port}`)).toBe(0);
      status = 401;
      expect(await probe(`127.0.0.1:${port}`)).toBe(0);
      status = 503;
      expect(await probe(`127.0.0.1:${port}`)).toBe(1);
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      expect(await probe(`127.0.0.1:${closedPort}`)).toBe(1);
    });
  });
});
