// Which providers.toml cp mode uses (pure). A config decides where Claude Code sends every
// prompt and which key goes with it, so cld never takes one the user did not choose:
//   1. one named: -c FILE, then a team's gw by address ($GW_URL: no file at all), then $CLD_TOML,
//      then $GW_CONFIG;
//   2. else the config of the gw that is running (the one serving ./providers.toml when several run);
//   3. else ./providers.toml, but only once the user confirmed this very content;
//   4. else the built-in routes and http://127.0.0.1:8145.
import type { RunningGw } from "../supervisor/registry.ts";

export interface ConfigFacts {
  /** Absolute paths, when given. */
  readonly flag?: string;
  readonly cldToml?: string;
  readonly gwConfig?: string;
  /** $GW_URL, when set: a gw elsewhere, reached by address and key alone (remote.ts). */
  readonly gatewayUrl?: string;
  readonly running: readonly RunningGw[];
  /** ./providers.toml (absolute) when it exists. */
  readonly here?: string;
  readonly hereConfirmed?: "confirmed" | "changed" | "new";
}

export type ConfigChoice =
  /** `named`: the user pointed at it (a flag, a variable, a gw they started). */
  | { readonly kind: "file"; readonly file: string; readonly origin: string; readonly named: boolean; readonly running?: RunningGw }
  | { readonly kind: "ask"; readonly file: string; readonly changed: boolean }
  | { readonly kind: "remote" }
  | { readonly kind: "several"; readonly running: readonly RunningGw[] }
  | { readonly kind: "builtin" };

export function chooseConfig(f: ConfigFacts): ConfigChoice {
  // A file named while a gw serves it is that gw's: it may listen elsewhere than its main_port
  // (gw up --port N, the demo's --port 0), and only the running gw knows where.
  const named = (file: string, origin: string, running = f.running.find((r) => r.config === file)): ConfigChoice => ({ kind: "file", file, origin, named: true, ...(running ? { running } : {}) });
  if (f.flag) return named(f.flag, "-c");
  if (f.gatewayUrl) return { kind: "remote" };
  if (f.cldToml) return named(f.cldToml, "$CLD_TOML");
  if (f.gwConfig) return named(f.gwConfig, "$GW_CONFIG");
  const configs = new Set(f.running.map((r) => r.config));
  const serving = configs.size === 1 ? f.running[0] : f.running.find((r) => r.config === f.here);
  if (serving) return named(serving.config, `the gw running as pid ${serving.pid}`, serving);
  if (f.running.length > 0) return { kind: "several", running: f.running };
  if (f.here && f.hereConfirmed === "confirmed") return { kind: "file", file: f.here, origin: "./providers.toml, confirmed before", named: false };
  if (f.here) return { kind: "ask", file: f.here, changed: f.hereConfirmed === "changed" };
  return { kind: "builtin" };
}
