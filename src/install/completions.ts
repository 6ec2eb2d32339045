// Shell completion scripts for gw and cld (pure text). They only hand the words typed so far
// to the installed binary (`gw _complete -- WORDS…`, see candidates.ts) and show its answer,
// so route and instance names follow the config and the three shells cannot drift apart.
import { FILES } from "./candidates.ts";

const HEADER = "# gw and cld completions (written by gw install; gw install --uninstall removes them)";
const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** `gw` is the installed binary's absolute path: completion works before PATH is fixed. */
export function bashCompletion(gw: string): string {
  return `${HEADER}
_gw_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} out
  out=$(${sh(gw)} _complete -- "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
  if [[ $out == ${FILES} ]]; then COMPREPLY=($(compgen -f -- "$cur"))
  else COMPREPLY=($(compgen -W "$out" -- "$cur")); fi
}
complete -F _gw_complete gw cld
`;
}

export function zshCompletion(gw: string): string {
  return `#compdef gw cld
${HEADER}
local out
out=$(${sh(gw)} _complete -- "\${(@)words[1,CURRENT]}" 2>/dev/null)
if [[ $out == ${FILES} ]]; then _files; else compadd -- \${(f)out}; fi
`;
}

/** fish autoloads one file per command; both define the same function. */
export function fishCompletion(gw: string, command: "gw" | "cld"): string {
  return `${HEADER}
function __gw_complete
    set -l out (${sh(gw)} _complete -- (commandline -opc) (commandline -ct) 2>/dev/null)
    if test "$out" = ${FILES}
        __fish_complete_path (commandline -ct)
    else
        printf '%s\\n' $out
    end
end
complete -c ${command} -f -a '(__gw_complete)'
`;
}
