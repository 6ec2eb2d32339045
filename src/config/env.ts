// .env beside providers.toml and ${VAR} substitution, as the old generator did them.

export type Env = Readonly<Record<string, string | undefined>>;

/** KEY=VALUE lines, `#` comments, optional `export`, optional single or double quotes. */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
    } else value = value.replace(/\s+#.*$/, "");
    out[m[1]!] = value;
  }
  return out;
}

/** Read `.env` in `dir`; its values override the process environment (old behaviour). */
export async function envWithDotenv(dir: string, base: Env): Promise<Env> {
  const file = Bun.file(`${dir}/.env`);
  if (!(await file.exists())) return base;
  return { ...base, ...parseDotenv(await file.text()) };
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
