// What an agent module says about its coding agent: how gw points it at the gateway, which routes
// suit it, where its gw-managed config lives and how it learns the model and its window. The
// launcher (../run.ts) does the rest the same way for every agent: the route menu, memory, the
// gateway check, the launch line and the hand-over.
import type { Env } from "../../config/env.ts";
import type { ModelFamily } from "../../catalog/families.ts";
import type { ChildEnv } from "../../cld/env.ts";
import type { ChooseContext, Chosen } from "../choose.ts";
import type { OfferedRoute } from "../routes.ts";

export interface Gateway {
  readonly baseUrl: string;
  readonly apiKey: string;
}

export interface AgentLaunch {
  readonly gateway: Gateway;
  /** The route the user chose (for an agent with several roles: its main one). */
  readonly route: OfferedRoute;
  /** Routes by role, from an agent's own chooser. */
  readonly roles?: Readonly<Record<string, string>>;
  /** Every route offered, the chosen one included (an agent may list them in its own model picker). */
  readonly routes: readonly OfferedRoute[];
  /** The agent's gw-managed directory (created): its config home, apart from the user's own. */
  readonly home: string;
  /** The user's environment: where their own settings are (HOME, the agent's own home variable). */
  readonly env: Env;
  /** The agent's executable, as found on PATH. */
  readonly command: string;
  /** One status line on stderr, as the launch's speaker (`gw run codex: …`). */
  readonly say: (line: string) => void;
}

export interface Prepared {
  /** Variables set for the agent (on top of the user's, with its stray variables blanked). */
  readonly env: Readonly<Record<string, string>>;
  /** Arguments placed before the user's own. */
  readonly args?: readonly string[];
}

export interface Agent {
  /** The word after `gw run`. */
  readonly name: string;
  /** One line for help and completions. */
  readonly summary: string;
  /** Its executable on PATH, what messages call it (`Codex CLI`), and how to get it. */
  readonly command: string;
  readonly label: string;
  readonly install: string;
  /** Its gw-managed directory under ~/.cache/cld (default: its name). */
  readonly home?: string;
  /** The terminal title before the route (default: `gw run NAME`). */
  readonly title?: string;
  /**
   * Model families it speaks natively (their routes come first in the menu); the others reach it
   * through CLIProxyAPI's translation. "any": every route is as good, in file order.
   */
  readonly families: readonly ModelFamily[] | "any";
  /**
   * Its own commands and their aliases, as its `--help` lists them: such a word after the agent
   * is FILTER only for a route of exactly that name (`gw run codex e …` is `codex exec`).
   */
  readonly commands?: readonly string[];
  /**
   * The run answers and exits (`claude -p`, `codex exec`): the window it runs in is not renamed,
   * since nothing would rename it back after (a tmux window named by a program keeps that name).
   */
  readonly oneShot?: (args: readonly string[]) => boolean;
  /** What `-y` becomes: the agent's own "ask me nothing" flag. */
  readonly yolo: readonly string[];
  /** Variables of the user's shell that would send the agent past the gateway: blanked. */
  readonly blank: readonly string[];
  /**
   * Whether the agent installed at `command` sends the hosts in NO_PROXY direct: then the user's
   * proxies stay for a gateway on this machine (loopback added to NO_PROXY), else they are blanked
   * (cld/proxies.ts). Measured with the real agent, never assumed.
   */
  readonly honoursNoProxy: (command: string) => boolean;
  /** The variable it reads an extra CA certificate from (default $NODE_EXTRA_CA_CERTS, what Node reads). */
  readonly caVar?: string;
  /** Its own way of choosing routes (default: one route, chooseRoute). */
  readonly choose?: (c: ChooseContext) => Promise<Chosen>;
  /** Its own order of the arguments it is started with (default: as they are). */
  readonly arrange?: (args: readonly string[]) => readonly string[];
  /** Write the agent's config into its home and say how to start it. */
  prepare(l: AgentLaunch): Promise<Prepared>;
  /**
   * The session an interactive launch ran, as the agent's arguments that resume it (`resume ID`,
   * `--resume ID`), found where the agent keeps its sessions (`l`: its home and environment), among
   * those written since `sinceMs`. The agent's own exit hint names the agent alone, which leaves
   * the gateway; given this, the launcher stays the agent's parent (signals forwarded, the terminal
   * the agent's) and names the way back through gw once the agent exits.
   */
  readonly resumeArgs?: (l: Pick<AgentLaunch, "home" | "env">, sinceMs: number) => readonly string[] | undefined;
  /** Its own hand-over (default: execve, keeping the PID and the terminal). */
  readonly handOver?: (command: string, args: readonly string[], env: ChildEnv) => Promise<number>;
}
