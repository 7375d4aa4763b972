import { describe, expect, it } from "vitest";
import { HEAP_FLAGS, heapFlagsToSet } from "../../src/cli/heap.js";

describe("heap flags", () => {
  it("sets both when the user chose neither", () => {
    expect(heapFlagsToSet([], undefined)).toEqual([...HEAP_FLAGS]);
    expect(heapFlagsToSet(["--enable-source-maps"], "--max-old-space-size=512")).toEqual([...HEAP_FLAGS]);
  });

  it("leaves the young generation alone when its size or growth was given, in either spelling", () => {
    expect(heapFlagsToSet(["--max-semi-space-size=16"], undefined)).toEqual(["--heap-growing-percent=25"]);
    expect(heapFlagsToSet([], "--max_semi_space_size=4")).toEqual(["--heap-growing-percent=25"]);
    expect(heapFlagsToSet(["--semi-space-growth-factor=2"], "")).toEqual(["--heap-growing-percent=25"]);
  });

  it("leaves the old generation's growth alone when it was given", () => {
    expect(heapFlagsToSet([], "--heap-growing-percent=100")).toEqual(["--semi-space-growth-factor=1"]);
    expect(heapFlagsToSet(["--heap_growing_percent=50", "--max-semi-space-size=1"], undefined)).toEqual([]);
  });
});
