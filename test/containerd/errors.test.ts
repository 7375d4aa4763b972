import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

// What the user is told when --containerd.address points at the wrong thing: each message says
// what it is and what to do, through the real command.
let dir: string;
const servers: Server[] = [];

function httpSocket(path: string, headers: Record<string, string>): Promise<void> {
  const server = createServer((_req, res) => {
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    res.end("OK");
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(path, () => resolve()));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "socket-errors-"));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

describe("connect errors", () => {
  it("names Docker's API socket when it is given as containerd's", async () => {
    const docker = join(dir, "docker.sock");
    await httpSocket(docker, { Server: "Docker/28.5.2 (linux)", "Api-Version": "1.51" });
    const r = await runCli(["df", `--containerd.address=${docker}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `containerd-orphan-exporter: containerd did not answer: ${docker} is Docker's API socket (it answers HTTP: Docker/28.5.2 (linux)), not containerd's gRPC socket. ` +
        "Point --containerd.address at the containerd Docker uses: /run/containerd/containerd.sock when dockerd runs with " +
        "--containerd=/run/containerd/containerd.sock (Debian's and Docker's own docker.service), else " +
        "/run/docker/containerd/containerd.sock; `ps -o args= -C dockerd` shows which\n",
    );
  });

  it("says a socket that answers HTTP but is not Docker's is not containerd's", async () => {
    const web = join(dir, "web.sock");
    await httpSocket(web, { Server: "nginx/1.22.1" });
    const r = await runCli(["df", `--containerd.address=${web}`]);
    expect(r.stderr).toContain(`${web} answers HTTP (nginx/1.22.1), not gRPC: it is not containerd's socket`);
  });

  it("reports a socket in a directory the user cannot enter as permission denied", async () => {
    const locked = join(dir, "locked");
    mkdirSync(locked, { mode: 0o700 });
    chmodSync(locked, 0o700);
    await httpSocket(join(locked, "containerd.sock"), {});
    chmodSync(dir, 0o755); // the parent is enterable; only `locked` is not
    const r = await runCli(["df", `--containerd.address=${join(locked, "containerd.sock")}`], { TSX_DISABLE_CACHE: "1" }, { uid: 65534, gid: 65534 });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `containerd-orphan-exporter: containerd did not answer: permission denied on ${join(locked, "containerd.sock")}: ` +
        `uid 65534 may not enter the directory ${locked} (mode 0700, owner uid 0); run the exporter as root, ` +
        `or let it enter ${locked} and give it the socket's group (containerd's [grpc] gid)\n`,
    );
    expect(r.stderr).not.toContain("is containerd running");
  });
});
