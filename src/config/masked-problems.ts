// Problems as gw shows them: a message or hint that quotes a value must not print a key in full.
// check, gen, up, login, usage, reload and the status page all print what the loader returns, so
// the loader masks once, here, for all of them.
import { createMasker } from "../observe/mask.ts";
import type { Problem } from "./types.ts";

/**
 * `problems` with every value a `${VAR}` gave (`expanded`) and every token-shaped text masked as
 * the request log masks keys. Values under 8 characters are left: none is a key worth the name,
 * and masking `main` or `8146` would garble ordinary words and numbers of the messages.
 */
export function maskProblems(problems: readonly Problem[], expanded: ReadonlySet<string>): Problem[] {
  const masker = createMasker([...expanded].filter((v) => v.length >= MIN_MASKED));
  return problems.map((p) => ({ ...p, message: masker.text(p.message), ...(p.hint === undefined ? {} : { hint: masker.text(p.hint) }) }));
}

const MIN_MASKED = 8;
