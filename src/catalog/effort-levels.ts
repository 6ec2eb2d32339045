// What an effort level costs in thinking tokens, as CLIProxyAPI reckons it: a route's
// thinking_budget_max clamps a client's level by it (lb/body-params.ts), and gw check warns of a
// route's own level above its own cap (config/routing.ts).

/**
 * CLIProxyAPI's budget for each effort level, lowest first (internal/thinking/convert.go
 * levelToBudgetMap): where a target thinks in budgets (Claude, Gemini 2.5) a level becomes this
 * budget, and a budget above 24576 becomes `xhigh` where it thinks in levels — the 400 that
 * `thinking_budget_max = 24576` keeps away, whichever way the client asked.
 */
const LEVEL_BUDGETS: readonly (readonly [level: string, budget: number])[] = [
  ["minimal", 512],
  ["low", 1024],
  ["medium", 8192],
  ["high", 24576],
  ["xhigh", 32768],
  ["max", 128000],
];

/** The budget of a level (any case); undefined for `none`, `auto` and names CLIProxyAPI does not know. */
export function levelBudget(level: string): number | undefined {
  return LEVEL_BUDGETS.find(([name]) => name === level.toLowerCase())?.[1];
}

/** The highest level whose budget is within `max` (the lowest, `minimal`, when none is: a level cannot ask for less thinking short of none). */
export function levelWithin(max: number): string {
  let fit = LEVEL_BUDGETS[0]![0];
  for (const [name, budget] of LEVEL_BUDGETS) if (budget <= max) fit = name;
  return fit;
}
