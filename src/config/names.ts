// Which names a config may give its instances and routes (pure). Both travel far: an instance
// name becomes file and directory names (instances/NAME.yaml, logs/NAME.log, auths/NAME), a
// route name reaches shells (completion, cld's terminal title), headers and logs. So each may
// only use characters that every file system, shell (bash, zsh, fish) and header carries as
// plain data, and must start with a letter, digit or "_" (no "-flag", no ".hidden", no "~user").

interface NameRule {
  readonly what: string;
  readonly pattern: RegExp;
  /** Runs of characters the rule does not allow. */
  readonly disallowed: RegExp;
  readonly max: number;
  /** The allowed characters, as the message names them. */
  readonly allowed: string;
  readonly why: string;
  /** Names gw keeps for itself (in any letter case: some file systems ignore it), each with why. */
  readonly reserved?: ReadonlyMap<string, string>;
}

function rule(what: string, chars: string, max: number, allowed: string, why: string, reserved?: ReadonlyMap<string, string>): NameRule {
  return { what, pattern: new RegExp(`^[A-Za-z0-9_][${chars}]{0,${max - 1}}$`), disallowed: new RegExp(`[^${chars}]+`, "g"), max, allowed, why, ...(reserved ? { reserved } : {}) };
}

export const INSTANCE_NAME = rule("instance name", "A-Za-z0-9._-", 64, `ASCII letters, digits, ".", "_" and "-"`, "it names files: instances/NAME.yaml, logs/NAME.log, auths/NAME", new Map([
  ["gw", "logs/gw.log is gw's own log, and `gw logs gw` names it"],
]));

/** Model names as clients and relays spell them: `opus4.6`, `anthropic/claude-opus-4.6`, `claude@2025`, `qwen:7b`. */
export const ROUTE_NAME = rule("route name", "A-Za-z0-9._:/@+-", 128, "ASCII letters, digits and . _ - : / @ +", "clients send it as the model name; it reaches shells, headers and logs");

/** The problem with `name` under `r`, or undefined when it is fine. */
export function nameProblem(r: NameRule, name: string): string | undefined {
  const kept = r.reserved?.get(name.toLowerCase());
  if (kept !== undefined) return `${r.what} ${JSON.stringify(name)} is gw's own: ${kept}`;
  if (r.pattern.test(name)) return undefined;
  if (name.length > r.max) return `${r.what} ${JSON.stringify(name)} is longer than ${r.max} characters`;
  return `${r.what} ${JSON.stringify(name)} may only use ${r.allowed}, and not start with "-" or "." (${r.why})`;
}

/** A name the rule accepts, close to the one given: the fix to suggest. */
export function saferName(r: NameRule, name: string): string {
  const cleaned = name.replace(r.disallowed, "-").replace(/^[^A-Za-z0-9_]+/, "").slice(0, r.max).replace(/-+$/, "");
  if (r.reserved?.has(cleaned.toLowerCase())) return `${cleaned}-1`;
  return cleaned || "renamed";
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Free text shown in menus (scenario names): anything printable, but no control characters. */
export function controlCharProblem(what: string, name: string): string | undefined {
  return CONTROL.test(name) ? `${what} ${JSON.stringify(name)} contains control characters (they would reach the terminal)` : undefined;
}
