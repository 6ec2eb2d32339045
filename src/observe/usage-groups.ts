// The groupings gw usage totals by: apart from usage.ts, so TAB (install/candidates.ts) can offer
// them without loading the price catalogue.
/**
 * model: the upstream model that answered (modelOf), whichever instance served it, without the
 * thinking suffix (`claude-haiku-4-5(high)` is claude-haiku-4-5).
 * agent: the client program's name (codex_exec, GeminiCLI-tui, claude-cli, …; its version left
 * out). decision / category / rule: how the `auto` router spread its requests ("-" for the others).
 */
export const GROUPS = ["day", "route", "target", "model", "client", "agent", "decision", "category", "rule"] as const;
export type GroupBy = (typeof GROUPS)[number];
