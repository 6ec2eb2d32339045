import { describe, expect, test } from "bun:test";
import { CATALOG_SOURCE, lookupModel, priceAt, spellings } from "../../src/catalog/models.ts";

describe("model catalogue", () => {
  test("CLIProxyAPI and relay spellings resolve to the catalogue's ids", () => {
    const ids = ["claude-opus-4-6-thinking", "anthropic/claude-opus-4.6", "gemini-3-flash", "gemini-3-pro-high", "gpt-5(high)", "claude-haiku-4-5-20251001"].map((n) => {
      const m = lookupModel(n);
      return m && `${m.provider}/${m.id}`;
    });
    expect(ids).toEqual(["anthropic/claude-opus-4-6", "anthropic/claude-opus-4-6", "google/gemini-3-flash-preview", "google/gemini-3-pro-preview", "openai/gpt-5", "anthropic/claude-haiku-4-5"]);
  });

  test("context windows and prices (USD per million tokens, cache reads and writes included)", () => {
    const sonnet = lookupModel("claude-sonnet-4-5")!;
    expect(sonnet.contextWindow).toBe(200_000);
    expect(sonnet.price).toEqual({
      input: 3,
      output: 15,
      cacheRead: 0.3,
      cacheWrite: 3.75,
      cacheWrite1h: 6,
      // Over 200k prompt tokens every kind costs more (the catalogue's tiers, not only the base).
      tiers: [{ above: 200_000, price: { input: 6, output: 22.5, cacheRead: 0.6, cacheWrite: 7.5, cacheWrite1h: 12 } }],
    });
    expect(lookupModel("gemini-3-pro-high")!.price.tiers).toEqual([{ above: 200_000, price: { input: 4, output: 18, cacheRead: 0.4 } }]);
    expect(lookupModel("gpt-5")!.price.tiers).toBeUndefined();
    expect(lookupModel("gpt-5")!.contextWindow).toBe(400_000);
  });

  test("an unknown model is undefined, never a guess", () => {
    expect(lookupModel("totally-unknown-model")).toBeUndefined();
    expect(lookupModel("")).toBeUndefined();
  });

  test("spellings: prefix and thinking suffix dropped, version dots as dashes, variants and -preview", () => {
    expect(spellings("anthropic/claude-opus-4.6(8192)")).toEqual([
      "anthropic/claude-opus-4.6(8192)",
      "claude-opus-4.6",
      "claude-opus-4-6",
      "claude-opus-4.6-preview",
      "claude-opus-4-6-preview",
    ]);
    expect(spellings("gemini-3-pro-high")).toContain("gemini-3-pro-preview");
  });

  test("a price the catalogue sets by date or hour is the one of the request's time, not of gw's first look", () => {
    const cost = (name: string, iso: string) => {
      const p = priceAt(name, Date.parse(iso))!;
      return p.input! + p.output!; // a million tokens each way
    };
    // From 2026-03-13 on, Opus 4.6's long prompts cost no more than short ones.
    expect(priceAt("claude-opus-4-6-thinking", Date.parse("2026-01-01T12:00:00Z"))!.tiers).toEqual([{ above: 200_000, price: expect.objectContaining({ input: 10, output: 37.5 }) }]);
    expect(priceAt("claude-opus-4-6-thinking", Date.parse("2026-12-01T12:00:00Z"))!.tiers).toBeUndefined();
    // DeepSeek's peak hours (06:00–10:00 UTC) cost twice its other hours.
    expect(cost("deepseek-v4-pro", "2026-12-04T07:33:00Z")).toBe(2 * cost("deepseek-v4-pro", "2026-12-04T12:00:00Z"));
    expect(cost("deepseek-v4-pro", "2026-12-04T12:00:00Z")).toBe(cost("deepseek-v4-pro", "2026-12-04T12:29:59Z"));
    // A price no condition touches is the same at any time.
    expect(lookupModel("claude-sonnet-4-5")!.timed).toBe(false);
    expect(priceAt("claude-sonnet-4-5", Date.parse("2020-01-01T00:00:00Z"))).toEqual(lookupModel("claude-sonnet-4-5")!.price);
    expect(priceAt("totally-unknown-model", Date.now())).toBeUndefined();
  });

  test("the source names the package and its version", () => {
    expect(CATALOG_SOURCE).toMatch(/^@pydantic\/genai-prices \d+\.\d+\.\d+$/);
  });
});
