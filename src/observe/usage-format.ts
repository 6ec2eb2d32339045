// How `gw usage` prints a UsageReport: an aligned table for people, CSV and JSON for tools.
// Costs with unknown prices are never guessed: the table marks them, JSON and CSV count them.

import { oneLine } from "../cli/one-line.ts";
import { columns, stackedRows, widestLine } from "../cli/table.ts";
import { PRICE_SOURCE } from "./pricing.ts";
import { type UsageReport, type UsageSums, tokensOf } from "./usage.ts";

const HEAD = ["requests", "input", "output", "cache read", "cache write", "cost"];

/** `width`: the terminal's columns; a table wider than that is printed a block per row. */
export function usageTable(r: UsageReport, width = Infinity): string {
  if (r.records === 0) return `no requests since ${r.since.replace("T", " ").slice(0, 16)} UTC (${r.files} log file${r.files === 1 ? "" : "s"})`;
  // Keys are the clients' words (a model name, a key sent on a gw without api_keys): shown escaped.
  const rows = [[r.by, ...HEAD], ...r.rows.map((row) => [oneLine(row.key), ...cells(row)]), ["total", ...cells(r.total)]];
  const { lines, widths } = columns(rows, (i) => i > 0);
  let out = lines;
  out.splice(rows.length - 1, 0, widths.map((w) => "─".repeat(w)).join("  "));
  if (widestLine(out.join("\n")) > width) out = [stackedRows(rows[0]!, rows.slice(1), width)];
  out.push("", `prices: ${PRICE_SOURCE}`);
  if (r.total.unpriced > 0) {
    out.push(
      `* cost leaves out ${r.total.unpriced} request${r.total.unpriced === 1 ? "" : "s"} with tokens no price covers; their models: ${oneLine(listed(r.unpricedModels, UNPRICED_SHOWN))}`,
      "  add them to [pricing] in providers.toml (USD per million tokens)",
    );
  }
  if (r.total.noUsage > 0) out.push(noUsageNote(r.total.noUsage));
  if (r.total.partialOutput > 0) out.push(partialOutputNote(r.total.partialOutput));
  if (r.badLines > 0) out.push(`(${r.badLines} unreadable log line${r.badLines === 1 ? "" : "s"} skipped)`);
  return out.join("\n");
}

/** What the table (and the status page) says of answers that reported no tokens. */
export const noUsageNote = (n: number): string =>
  `* cost leaves out ${n} answered request${n === 1 ? "" : "s"} that reported no usage: their cost is unknown (an OpenAI chat stream reports its tokens only with stream_options.include_usage)`;

/** What the table says of answers cut before their final output count: their figures are lower bounds, not guesses. */
const partialOutputNote = (n: number): string =>
  `* output counts ${n} request${n === 1 ? "" : "s"} cut short (client left, stream broke) before the final count: for those, output and its cost are lower bounds`;

/** Models the table names at most (the JSON names them all): a log of clients' words may hold thousands. */
const UNPRICED_SHOWN = 20;

/** `names` joined, the first `max` of them and how many more. */
const listed = (names: readonly string[], max: number): string =>
  names.length <= max ? names.join(", ") : `${names.slice(0, max).join(", ")} and ${names.length - max} more (gw usage --json lists them all)`;

export function usageCsv(r: UsageReport): string {
  const head = [r.by, "requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd", "unpriced_requests", "no_usage_requests", "partial_output_requests"];
  const row = (key: string, s: UsageSums) =>
    [csvField(key), s.requests, s.input, s.output, s.cacheRead, s.cacheWrite, s.costUsd.toFixed(6), s.unpriced, s.noUsage, s.partialOutput].join(",");
  return [head.join(","), ...r.rows.map((x) => row(x.key, x)), row("total", r.total)].join("\n");
}

export function usageJson(r: UsageReport): string {
  const sums = (s: UsageSums) => ({
    requests: s.requests,
    input_tokens: s.input,
    output_tokens: s.output,
    cache_read_tokens: s.cacheRead,
    cache_write_tokens: s.cacheWrite,
    total_tokens: tokensOf(s),
    cost_usd: round6(s.costUsd),
    unpriced_requests: s.unpriced,
    /** Answers that reported no tokens: their cost is unknown, not 0. */
    no_usage_requests: s.noUsage,
    /** Answers cut before their final output count: their output is a lower bound. */
    partial_output_requests: s.partialOutput,
  });
  return JSON.stringify(
    {
      by: r.by,
      since: r.since,
      files: r.files,
      records: r.records,
      bad_lines: r.badLines,
      price_source: PRICE_SOURCE,
      unpriced_models: r.unpricedModels,
      rows: r.rows.map((x) => ({ key: x.key, ...sums(x) })),
      total: sums(r.total),
    },
    null,
    2,
  );
}

/** `$12.34`, `$12.34*` when some of it is unknown, `unknown` when none of it is known. */
export function costText(s: UsageSums): string {
  const unknown = s.unpriced + s.noUsage;
  if (unknown > 0 && s.costUsd === 0) return "unknown";
  return `${money(s.costUsd)}${unknown > 0 ? "*" : ""}`;
}

/** Dollars with the precision that still says something: $1234, $12.34, $0.042, $0.0031, <$0.0001 (not $0.0000 for a few tokens). */
function money(usd: number): string {
  if (usd >= 100) return `$${usd.toFixed(0)}`;
  if (usd >= 1 || usd === 0) return `$${usd.toFixed(2)}`;
  if (usd < 0.00005) return "<$0.0001";
  return `$${usd.toFixed(usd >= 0.01 ? 3 : 4)}`;
}

/** 1234567 → "1.23M"; small numbers stay exact. A unit is kept only while it shows under 1000 (999,960 is "1.00M", not "1000.0k"). */
export function compact(n: number): string {
  if (n < 10_000) return String(n);
  for (const [unit, size, digits] of UNITS) {
    const shown = (n / size).toFixed(digits);
    if (Number(shown) < 1000 || unit === "G") return shown + unit;
  }
  return String(n); // not reached: G takes the rest
}

const UNITS = [["k", 1e3, 1], ["M", 1e6, 2], ["G", 1e9, 2]] as const;

// --- internal ---

const cells = (s: UsageSums) => [String(s.requests), compact(s.input), compact(s.output), compact(s.cacheRead), compact(s.cacheWrite), costText(s)];

const round6 = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * A key (a client's words) as a CSV field: escaped as the table shows it (no control reaches a
 * terminal, no bare CR breaks a record), and one that opens with = + - @ made text with a leading
 * ' (a spreadsheet would run it as a formula: =HYPERLINK(…)).
 */
function csvField(v: string): string {
  const text = oneLine(v);
  const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
  return /[",]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
