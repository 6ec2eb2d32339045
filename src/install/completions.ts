// Shell completion scripts for gw and cld (pure text). They only hand the words typed so far
// to the installed binary (`gw _complete -- WORDS…`, see candidates.ts) and show its answer,
// so route and instance names follow the config and the three shells cannot drift apart.
//
// Every candidate is data: it is read line by line into an array and never passes through
// eval, word splitting, globbing or `compgen -W` (which expands `$(…)` in its word list), and
// what TAB inserts is quoted by the shell (bash: printf %q; zsh's compadd and fish quote their
// own insertions), so a name like `$(touch PWNED)` runs neither on TAB nor after Enter. fish
// leaves a leading ~ unquoted (for ~/paths), so the fish script does not offer such names (no
// valid route or instance name starts with ~; config/names.ts).
import { fishQuote } from "../cli/shell-word.ts";
import { FILES } from "./candidates.ts";

/** Every completion file gw writes carries it: how gw install tells its own from another tool's. */
export const HEADER = "# gw and cld completions (written by gw install; gw install --uninstall removes them)";
/** POSIX single quotes (bash, zsh). */
const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** `gw` is the installed binary's absolute path: completion works before PATH is fixed. */
export function bashCompletion(gw: string): string {
  return `${HEADER}
_gw_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} name quoted
  local -a names=()
  COMPREPLY=()
  mapfile -t names < <(${sh(gw)} _complete -- "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
  if [[ \${names[0]-} == ${FILES} ]]; then compopt -o default 2>/dev/null; return 0; fi
  for name in "\${names[@]}"; do
    [[ $name == "$cur"* ]] || continue
    printf -v quoted '%q' "$name"
    COMPREPLY+=("$quoted")
  done
}
complete -F _gw_complete gw cld
`;
}

export function zshCompletion(gw: string): string {
  return `#compdef gw cld
${HEADER}
local -a names
names=("\${(@f)$(${sh(gw)} _complete -- "\${(@)words[1,CURRENT]}" 2>/dev/null)}")
if [[ \${names[1]-} == ${FILES} ]]; then _files; else compadd -- "\${(@)names:#}"; fi
`;
}

/** fish autoloads one file per command; both define the same function. */
export function fishCompletion(gw: string, command: "gw" | "cld"): string {
  return `${HEADER}
function __gw_complete
    set -l names (${fishQuote(gw)} _complete -- (commandline -opc) (commandline -ct) 2>/dev/null)
    if test "$names[1]" = ${FILES}
        __fish_complete_path (commandline -ct)
    else
        string match -v -- '~*' $names
    end
end
complete -c ${command} -f -a '(__gw_complete)'
`;
}
