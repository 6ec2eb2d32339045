// .env beside providers.toml and ${VAR} substitution, as the old generator did them.

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * KEY=VALUE lines, `#` comments, optional `export`, optional single or double quotes. The numbers
 * of lines it cannot read (no NAME=, a quote never closed) go to `unread`, for a warning: such a
 * line used to vanish, and the user was told only that the variable it meant to set is not set.
 */
export function parseDotenv(text: string, unread: number[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      unread.push(i + 1);
      continue;
    }
    let value = m[2]!;
    const q = value[0];
    if (q === '"' || q === "'") {
      // Closed at the end of the line (the old rule), else closed before a comment.
      const inner = value.length >= 2 && value.endsWith(q) ? value.slice(1, -1) : (q === '"' ? /^"((?:[^"\\]|\\.)*)"\s+#/ : /^'([^']*)'\s+#/).exec(value)?.[1];
      if (inner === undefined) {
        // Nothing set, as the warning says: the value with its stray quote went into the YAML,
        // and where the variable is used, nothing said so.
        unread.push(i + 1);
        continue;
      }
      value = q === '"' ? inner.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1") : inner;
    } else value = value.replace(/\s+#.*$/, "");
    out[m[1]!] = value;
  }
  return out;
}

/** The environment with `.env`'s text (if any) over it: its values override the process's (old behaviour). */
export function withDotenv(base: Env, dotenv: string | undefined, unread?: number[]): Env {
  return dotenv === undefined ? base : { ...base, ...parseDotenv(dotenv, unread) };
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replace `${VAR}`; unknown variables stay literal (old behaviour) and are reported, as are empty ones. */
export function substitute(value: string, env: Env): { value: string; missing: string[]; empty: string[] } {
  if (!value.includes("${")) return { value, missing: [], empty: [] }; // most values: a big file has thousands
  const missing: string[] = [];
  const empty: string[] = [];
  const out = value.replace(VAR, (whole, name: string) => {
    const v = env[name];
    if (v === undefined) {
      missing.push(name);
      return whole;
    }
    if (v.trim() === "") empty.push(name);
    return v;
  });
  return { value: out, missing, empty };
}

/**
 * A value nobody means for real: the fill-ins of .env.example (sk-relay-xxxxxxxxxxxxxxxx,
 * choose-a-long-random-string) and the usual "your-…" / "<…>" / "changeme" shapes.
 */
export function isPlaceholder(v: string): boolean {
  return /x{8,}/i.test(v) || /^(choose-a-|your[-_])/i.test(v) || /^<[^<>]*>$/.test(v) || /^(changeme|change-me|todo|xxx)$/i.test(v);
}
