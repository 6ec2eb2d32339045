// Commands named inside prose (a refusal, its fix, a config problem), retyped for a user who runs
// gw by another name (pure). Messages are written with the README's names, `gw up -d`, `cld cp`;
// before gw install those are "command not found", so the one place that prints them types them
// as the user can run them (self.ts typedIn) instead of every message doing it.

interface Names {
  /** How the user types gw: "./gw", "'my build/gw'". */
  readonly gw: string;
  /** How the user types cld: "./gw cld". */
  readonly cld: string;
  /** gw's subcommands: only `gw WORD` with one of them is a command ("the gw demo" is not). */
  readonly subcommands: readonly string[];
}

/** cld's own first words: a mode or a flag. */
const CLD_WORDS = "cp|ag|official|-[-\\w]+";

/**
 * A value a message quotes ("gw up" as a route name, a client's model): kept as written, since
 * the user looks for it in their file. No escapes: an alternation for them made 1 MB of hostile
 * text take seconds; a name with a quote in it is refused by the config anyway.
 */
const QUOTED = '"[^"\\n]*"';

/**
 * Each `gw SUB` and `cld MODE|-FLAG` at a word start (not `./gw up`, not `/usr/bin/gw up`, not
 * `gw mock:` as a speaker's label, not `gw up.toml` as a file's name) becomes names.gw /
 * names.cld. One pass: a replaced `gw cld cp` is not looked at again; text typed already
 * (`./gw up`, `./gw cld cp`) stays as it is.
 */
export function typeCommands(text: string, names: Names): string {
  const subs = names.subcommands.map((s) => s.replace(/[^\w-]/g, "")).join("|");
  const close = "$|[\\s)`\"'·]";
  const ends = `(?=${close}|[.,;](?=${close}))`;
  const command = new RegExp(`(${QUOTED})|(^|[\\s(\`"'·:;,=])(?:(gw) (?=(?:${subs})${ends})|cld (?=(?:${CLD_WORDS})${ends}))`, "g");
  return text.replace(command, (m, quoted: string | undefined, before: string, gw: string | undefined, at: number) => {
    if (quoted) return m;
    if (gw) return `${before}${names.gw} `;
    // `./gw cld --resume`, typed already: its cld is gw's subcommand, not the link
    const upTo = text.slice(0, at + before.length);
    return upTo.endsWith(`${names.gw} `) || upTo.endsWith("gw ") ? m : `${before}${names.cld} `;
  });
}
