// Carrying out a migration plan's copies and links (0600 in a 0700 directory: these are login
// tokens). The first step that cannot be written stops it; what was done before stays, and a
// second run finds it in place. The failure is said of the place the user knows — the login's
// destination, its auth dir or the folder that may not hold one, never the temp file a copy goes
// through nor a directory not made yet — with the fix its cause needs.

import { link, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { CliError } from "../cli/errors.ts";
import { displayPath } from "../cli/display-path.ts";
import { writeFileAtomic } from "../fs/atomic-write.ts";
import { writeError } from "../fs/why.ts";
import type { Credential, Step } from "./credentials.ts";

/** The plan's steps, each copy and link marked done or not, and the refusal that stopped it. */
export async function applyCredentials(steps: readonly Step[], old: readonly Credential[]): Promise<{ steps: Step[]; problem?: CliError }> {
  const bytes = new Map(old.map((c) => [c.name, c.bytes]));
  const out: Step[] = [];
  let problem: CliError | undefined;
  for (const s of steps) {
    if (s.action !== "copy" && s.action !== "link") out.push(s);
    else if (problem) out.push({ ...s, done: false });
    else {
      problem = await applyStep(s, bytes.get(s.credential)!);
      out.push({ ...s, done: !problem });
    }
  }
  return problem ? { steps: out, problem } : { steps: out };
}

async function applyStep(s: Step, bytes: Uint8Array): Promise<CliError | undefined> {
  const dir = dirname(s.to!);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    return refusal(err, mkdirPlace(err, dir), s);
  }
  if (s.action === "link") {
    const linked = await link(s.from!, s.to!).then(
      () => true,
      () => false, // another filesystem: a copy still serves
    );
    if (linked) return undefined;
  }
  try {
    await writeFileAtomic(s.to!, bytes, 0o600);
    return undefined;
  } catch (err) {
    return refusal(err, s.to!, s);
  }
}

/**
 * Where a failed `mkdir -p` of `dir` is said to fail. The error names the first directory that could
 * not be made, which does not exist: refused by rights or a read-only file system, the fault is the
 * existing directory it was to be made in (the config folder, for a first auth dir). Anything else
 * (a file in the way) is at the path named.
 */
function mkdirPlace(err: unknown, dir: string): string {
  const { code, path = dir } = err as NodeJS.ErrnoException;
  return code === "EACCES" || code === "EPERM" || code === "EROFS" ? dirname(path) : path;
}

/** A failed write as the command's one-line refusal; anything that is no file-system error gw knows is a bug, thrown as it came. */
function refusal(err: unknown, place: string, s: Step): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  const dir = displayPath(place === s.to ? dirname(place) : place);
  const fix =
    code === "EACCES" || code === "EPERM"
      ? `let this user write in ${dir} (its owner, mode or an immutable flag: lsattr -d shows it)`
      : code === "EROFS"
        ? `set auth_dir of instance ${s.instance} to a writable place`
        : `move it away (or set auth_dir of instance ${s.instance})`;
  const refused = writeError(err, place, `${fix}, then run gw migrate --apply again`);
  if (refused instanceof CliError) return refused;
  throw refused;
}
