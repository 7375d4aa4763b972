// Free loopback ports for daemons that want a port number up front (docker-registry does).
import { createServer } from "node:net";

/**
 * Asks the kernel for a free port by binding port 0, then releases it. Another process could
 * grab it in between; callers that start a daemon on it should retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}
