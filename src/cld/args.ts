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
  /** Arguments for claude, in order (`-y` already turned into its long form). */
  readonly claudeArgs: readonly string[];
}

export const YOLO_FLAG = "--dangerously-skip-permissions";

const isMode = (s: string | undefined): s is Mode => (MODES as readonly string[]).includes(s ?? "");

/**
 * `-c` is also Claude Code's `--continue`, so cld takes `-c` only when a `.toml` file follows
 * it; `--config` (which claude does not have) always belongs to cld.
 */
function configValue(args: readonly string[], i: number): { value: string; used: number } | null {
  const a = args[i]!;
  if (a.startsWith("--config=")) return { value: a.slice("--config=".length), used: 1 };
  const next = args[i + 1];
  if (a === "--config" && next !== undefined) return { value: next, used: 2 };
  if (a === "-c" && next?.endsWith(".toml")) return { value: next, used: 2 };
  return null;
}

export function parseCldArgs(argv: readonly string[]): CldArgs {
  let mode: Mode | undefined;
  let filter: string | undefined;
  let config: string | undefined;
  let help = false;
  const claudeArgs: string[] = [];
  // Position in "mode, then filter": the words cld may claim before handing over to claude.
  let expect: "mode" | "filter" | "none" = "mode";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      claudeArgs.push(...argv.slice(i + 1));
      break;
    }
    if (a === "-y" || a === "--yolo") {
      claudeArgs.push(YOLO_FLAG);
      continue;
    }
    if (a === "-h" || a === "--help") {
      help = true;
      continue;
    }
    const cfg = configValue(argv, i);
    if (cfg) {
      config = cfg.value;
      i += cfg.used - 1;
      continue;
    }
    if (expect === "mode" && isMode(a)) {
      mode = a;
      expect = a === "cp" ? "filter" : "none";
      continue;
    }
    if (expect === "filter" && !a.startsWith("-") && a !== "") {
      filter = a;
      expect = "none";
      continue;
    }
    expect = "none";
    claudeArgs.push(a);
  }
  return { mode, filter, config, help, claudeArgs };
}

export const CLD_USAGE = `cld — start Claude Code through the gw gateway, Antigravity, or Anthropic directly

usage: cld [cp|ag|official] [FILTER] [-y] [-c FILE.toml] [claude args…]
       gw cld …  (the same)

  cp        through the gateway (routes and address from providers.toml)
  ag        straight to the Antigravity proxy ($ANTI_API_BASE, $ANTI_API_TOKEN)
  official  Anthropic's own service; nothing injected
  FILTER    cp only: first route containing FILTER becomes main; no questions asked
  -y, --yolo          pass --dangerously-skip-permissions
  -c, --config FILE   providers.toml to read (-c only when FILE ends in .toml: -c alone is claude's --continue)
  -h, --help          this help (claude's own: cld cp -- --help)

Every other argument goes to claude unchanged, in order: cld cp opus -p "hi" --resume
No mode: a menu. In any menu, Esc reuses the last choice.
cld --resume ID (Claude Code's exit hint): the session's own mode, launched as last time.
Config (cld names the one it uses): -c FILE, else $CLD_TOML, else $GW_CONFIG, else the config of the
running gw, else ./providers.toml once you confirmed it (asked again when it changes); none = the
built-in routes and http://127.0.0.1:8145.
`;
