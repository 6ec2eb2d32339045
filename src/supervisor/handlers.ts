// What the control socket's requests do inside a running gw (control.ts carries them).
import { formatProblem } from "../config/index.ts";
import type { Reloader } from "../lb/reload.ts";
import { maskerOf } from "../observe/mask.ts";
import type { ControlHandlers } from "./control.ts";
import type { Drainer, InstanceSet } from "./instances.ts";
import { logStream } from "./logtail.ts";
import type { ReloadProgress } from "./reload-progress.ts";
import { type GwPaths, instanceLog } from "./paths.ts";
import { buildStatus, type GatewayExtras, type StatusSources } from "./status.ts";

interface HandlerDeps {
  readonly paths: GwPaths;
  readonly sources: () => StatusSources;
  readonly set: InstanceSet;
  /** The LB, once it serves: a restart drains the instance's requests through it first. */
  readonly drainer: () => Drainer | null;
  readonly stop: () => Promise<void>;
  /** Null until the LB serves: reloading a half-started gw would race its start. */
  readonly reloader: () => Reloader | null;
  /** What the reload running now says about the instances it relaunches. */
  readonly reloadProgress: ReloadProgress;
  readonly upgrade: ControlHandlers["upgrade"];
}

export function controlHandlers(d: HandlerDeps): ControlHandlers {
  const stopping = () => d.sources().phase === "stopping";
  return {
    status: () => buildStatus(d.sources()),
    upgrade: (binary) => d.upgrade(binary),
    down: () => void d.stop(),
    async restart(name, progress) {
      if (stopping()) throw new Error("gw is stopping; nothing to restart");
      return name && !d.set.get(name) ? null : d.set.restart(name, d.drainer() ?? undefined, progress);
    },
    async reload(progress) {
      const reloader = d.reloader();
      if (!reloader || stopping()) return { ok: false, problems: [`gw is ${d.sources().phase}; reload once it serves`] };
      // A reload joined while another runs (the file watcher's) hears that one's relaunches too: it waits for them.
      const unwatch = d.reloadProgress.watch(progress);
      try {
        const r = await reloader.reload();
        return { ok: r.ok, problems: r.problems.map((p) => formatProblem(p)) };
      } finally {
        unwatch();
      }
    },
    instanceNames: () => d.set.list().map((s) => s.name),
    explain(input) {
      const gateway = d.sources().gateway as GatewayExtras | null;
      return gateway?.explain ? gateway.explain(input.body, { path: input.path, session: input.session }) : null;
    },
    logs(name, n, follow, signal) {
      const { config } = d.sources();
      const all = [{ name: "gw", file: d.paths.gwLog }, ...config.instances.filter((i) => i.managed).map((i) => ({ name: i.name, file: instanceLog(d.paths, i.name) }))];
      const sources = name ? all.filter((s) => s.name === name) : all;
      return sources.length ? logStream(sources, n, follow, signal, (line) => maskerOf(d.sources().config).text(line)) : null;
    },
  };
}
