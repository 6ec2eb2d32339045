// cld's own argv parsing (pure). cld claims only a few words; everything else reaches
// `claude` untouched and in order, because users pass Claude Code flags through it all day.

export const MODES = ["cp", "ag", "official"] as const;
export type Mode = (typeof MODES)[number];

export interface CldArgs {
  readonly mode?: Mode;
  /** cp only: route filter for the fast start (first non-dash word right after the mode). */
  readonly filter?: string;
  /** `-c FILE.toml` / `--config FILE`: which providers.toml to read. */
  readonly config?: string;
  readonly help: boolean;
  /** FILTER was the first word, no mode before it (`cld opus`): a route only by its exact name. */
  readonly filterExact: boolean;
  /** Arguments for claude, in order (`-y` already turned into its long form). */
  readonly claudeArgs: readonly string[];
  /** The same with FILTER in its place: claude's when it names no route, or the mode is not cp. */
  readonly claudeArgsWithFilter: readonly string[];
}

export const YOLO_FLAG = "--dangerously-skip-permissions";

const isMode = (s: string): s is Mode => (MODES as readonly string[]).includes(s);

/**
 * `-c` is also Claude Code's (opencode's, Qwen Code's) `--continue`, and `-c` / `--config` are
 * Codex's own `key=value` flag. So a launcher takes `-c` only when a `.toml` file follows it, and
 * neither when the value holds `=`: a key=value is the agent's, never the launcher's file.
 */
function configValue(args: readonly string[], i: number): { value: string; used: number } | null {
  const a = args[i]!;
  const inline = a.startsWith("--config=");
  const value = inline ? a.slice("--config=".length) : args[i + 1];
  if (value === undefined || value.includes("=")) return null;
  if (inline || a === "--config" || (a === "-c" && value.endsWith(".toml"))) return { value, used: inline ? 1 : 2 };
  return null;
}

/** What a launcher's argv says, before any agent is known: the words it claims, the rest in order. */
interface LaunchWords {
  /** The first word (cld's mode, gw run's agent) when `isFirst` accepted it. */
  readonly first?: string;
  readonly filter?: string;
  /** FILTER is one of the agent's own commands (LaunchGrammar.commands). */
  readonly filterIsCommand: boolean;
  readonly config?: string;
  readonly help: boolean;
  /** The agent's arguments in order; `-y` / `--yolo` replaced by `yolo(first)`. */
  readonly rest: readonly string[];
  /** `rest` with the FILTER word back in its place, for a launcher that finds it names no route. */
  readonly restWithFilter: readonly string[];
}

interface LaunchGrammar {
  /** Whether a word (the first non-flag one) is the launcher's own: a mode, an agent name. */
  readonly isFirst: (word: string) => boolean;
  /** Whether that first word takes a route FILTER right after it. */
  readonly takesFilter: (first: string) => boolean;
  /** The agent's flags for `-y` (known only once the whole line is read: `gw run -y codex`). */
  readonly yolo: (first: string | undefined) => readonly string[];
  /**
   * The agent's own commands (`codex exec`, its alias `e`). In FILTER's place such a word is FILTER
   * only for a route of exactly that name (the launcher's to check), and the agent's arguments begin with it.
   */
  readonly commands?: (first: string) => readonly string[];
  /**
   * A first word that is no FIRST is taken as a FILTER that names a route only by its exact name
   * (as a command word is), and stays the agent's when it names none: `cld opus`, the mode left out.
   */
  readonly bareFirstIsFilter?: boolean;
}

/**
 * The launchers' shared grammar: `[FIRST] [FILTER] [-y] [-c FILE.toml] [agent args…]`. They claim
 * only these words; everything else reaches the agent untouched and in order. Once the agent's
 * arguments have begun, `-h`, `--help` and `--` are the agent's too (`codex exec --help`, a prompt
 * after its own `--`); before that, `--` ends the launcher's words and is dropped.
 */
export function parseLaunchWords(argv: readonly string[], g: LaunchGrammar): LaunchWords {
  let first: string | undefined;
  let filter: string | undefined;
  let filterIsCommand = false;
  let config: string | undefined;
  let help = false;
  const rest: (string | typeof YOLO | typeof FILTER)[] = [];
  // Position in "first word, then filter": the words the launcher may claim before handing over.
  let expect: "first" | "filter" | "none" = "first";
  let agentsBegun = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest.push(...argv.slice(agentsBegun ? i : i + 1));
      break;
    }
    if (a === "-y" || a === "--yolo") {
      rest.push(YOLO);
      continue;
    }
    if ((a === "-h" || a === "--help") && !agentsBegun) {
      help = true;
      continue;
    }
    const cfg = configValue(argv, i);
    if (cfg) {
      config = cfg.value;
      i += cfg.used - 1;
      continue;
    }
    if (expect === "first" && g.isFirst(a)) {
      first = a;
      expect = g.takesFilter(a) ? "filter" : "none";
      continue;
    }
    const bare = !a.startsWith("-") && a !== "";
    if (expect === "first" && g.bareFirstIsFilter && bare) {
      [filter, filterIsCommand, agentsBegun, expect] = [a, true, true, "none"];
      rest.push(FILTER);
      continue;
    }
    if (expect === "filter" && bare) {
      filter = a;
      filterIsCommand = first !== undefined && (g.commands?.(first) ?? []).includes(a);
      agentsBegun = filterIsCommand;
      rest.push(FILTER);
      expect = "none";
      continue;
    }
    expect = "none";
    agentsBegun = true;
    rest.push(a);
  }
  const yolo = g.yolo(first);
  const words = (f: readonly string[]) => rest.flatMap((a) => (a === YOLO ? yolo : a === FILTER ? f : [a]));
  return { first, filter, filterIsCommand, config, help, rest: words([]), restWithFilter: words(filter === undefined ? [] : [filter]) };
}

const YOLO = Symbol("-y");
const FILTER = Symbol("FILTER");

export function parseCldArgs(argv: readonly string[]): CldArgs {
  const w = parseLaunchWords(argv, { isFirst: isMode, takesFilter: (m) => m === "cp", yolo: () => [YOLO_FLAG], bareFirstIsFilter: true });
  return { mode: w.first as Mode | undefined, filter: w.filter, filterExact: w.filterIsCommand, config: w.config, help: w.help, claudeArgs: w.rest, claudeArgsWithFilter: w.restWithFilter };
}

/**
 * cld's help, with cld and gw typed as this user can run them (pure): `cld` / `gw` once installed,
 * `./gw cld` / `./gw` for a downloaded binary, where a bare `cld` is "command not found".
 */
export function cldUsage(cld: string, gw: string): string {
  const alias = cld === "cld" ? `\n       ${gw} cld …  (the same)` : "";
  return `cld — start Claude Code through the gw gateway, Antigravity, or Anthropic directly

usage: ${cld} [cp|ag|official] [FILTER] [-y] [-c FILE.toml] [claude args…]${alias}

  cp        through the gateway (routes and address from providers.toml); also ${gw} run claude
  ag        straight to the Antigravity proxy ($ANTI_API_BASE, $ANTI_API_TOKEN)
  official  Anthropic's own service; nothing injected but cld as the exit hint's command
  FILTER    cp only: first route containing FILTER becomes main; no questions asked
  -y, --yolo          pass --dangerously-skip-permissions
  -c, --config FILE   providers.toml to read (-c only when FILE ends in .toml: -c alone is claude's --continue)
  -h, --help          this help (claude's own: ${cld} cp -- --help)

Every other argument goes to claude unchanged, in order: ${cld} cp opus -p "hi" --resume
No mode: a menu. In any menu, Esc reuses the last choice. ${cld} ROUTE, the mode left out: with
cp chosen, a route's exact name is that route (${cld} -- WORD: the word is claude's prompt).
${cld} --resume ID (Claude Code's exit hint, in every mode): the session's own mode, launched as last time.
Config (cld names the one it uses): -c FILE, else the gw at $GW_URL (key: $GW_API_KEY; no file
needed), else $CLD_TOML, else $GW_CONFIG, else the config of the running gw, else ./providers.toml
once you confirmed it (asked again when it changes); none = the built-in routes and
http://127.0.0.1:8145.
`;
}
