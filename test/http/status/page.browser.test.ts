import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { humanBytes } from "../../../src/cli/format.js";
import { pushImage } from "../../lab/images.js";
import { type CancelledDownload, cancelledDownload, uniqueNamespace } from "../../lab/scenarios.js";
import { startTestApp, type TestApp } from "../../support/app.js";

// The status page in a real headless Chromium (Debian's), against the lab's containerd with a
// pull cut mid-download: it renders, shows the cut pull's lease, what it was pulling and its
// bytes, and the browser reports no error. UPDATE_SCREENSHOT=1 rewrites docs/status-page.png.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = new URL("../../../docs/status-page.png", import.meta.url).pathname;

const lab = inject("lab");
const ns = uniqueNamespace("status");
let cut: CancelledDownload;
let repo: string;
let t: TestApp;
let base: string;
let browser: Browser;
let scratch: string;

beforeAll(async () => {
  repo = `status-page-${ns}`;
  const image = await pushImage(lab, { repo, tag: "1", layers: [{ size: 3 << 20 }, { size: 2 << 20 }] });
  cut = await cancelledDownload(lab, ns, image);
  t = await startTestApp([`--containerd.address=${lab.socket}`, `--containerd.namespaces=${ns}`, "--lease.stale-after=0s", "--ingest.idle-after=0s"]);
  base = await t.app.listen({ host: "127.0.0.1", port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  scratch = mkdtempSync(join(tmpdir(), "status-page-"));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the status page in Chromium", () => {
  it("shows the cut pull's lease, repository and bytes with no console error", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on("console", (message) => {
      if (message.type() === "error" || message.type() === "warning") problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));

    const response = await page.goto(`${base}/`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe("containerd-orphan-exporter");
    expect(await page.textContent("#containerd")).toMatch(/: up, containerd v?1\./);

    const lease = cut.leases[0]?.id as string;
    expect(cut.leases).toHaveLength(1);
    const row = page.locator("#stuck-leases tbody tr", { hasText: lease });
    await expect.poll(() => row.count()).toBe(1);
    const cells = await row.locator("td").allTextContents();
    expect(cells[0]).toBe(ns);
    expect(cells).toContain("stale");
    expect(cells.at(-1)).toContain(`/${repo}`);

    // The page's figures are the API's, human-readable: the lease's held bytes and the partial downloads.
    const report = (await t.app.inject({ url: "/api/v1/inventory" })).json() as { stuckLeases: { id: string; heldBytes: number }[] };
    const held = report.stuckLeases.find((l) => l.id === lease)?.heldBytes ?? -1;
    expect(held).toBeGreaterThan(0);
    expect(cells).toContain(humanBytes(held));
    const ingestRows = await page.locator("#ingests tbody tr").allTextContents();
    expect(ingestRows).toHaveLength(cut.ingests.length);
    for (const ingest of cut.ingests) expect(ingestRows.join("\n")).toContain(humanBytes(ingest.offset));
    expect(await page.textContent("#reclaimable-total")).not.toBe("0 B");
    expect(await page.textContent("#prune")).toContain("off (no admin token configured)");
    for (const link of ["/metrics", "/api/v1/inventory"]) expect(await page.locator(`nav a[href="${link}"]`).count()).toBe(1);

    const shot = process.env.UPDATE_SCREENSHOT === "1" ? SCREENSHOT : join(scratch, "status-page.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe("PNG");
    expect(problems).toEqual([]);
  });

  it("degrades to the containerd-did-not-answer panel", async () => {
    const down = await startTestApp(["--containerd.address=/nonexistent/containerd.sock"]);
    try {
      const address = await down.app.listen({ host: "127.0.0.1", port: 0 });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(`${address}/`);
      expect(await page.textContent("#containerd-down h2")).toBe("containerd did not answer");
      expect(await page.textContent("#containerd-down")).toContain("no containerd socket at /nonexistent/containerd.sock");
      expect(await page.locator("#stuck-leases").count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await down.close();
    }
  });
});
