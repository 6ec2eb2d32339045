// Give the gateway's /metrics and /_gw/ page the supervisor's live view (instance states,
// restarts, cooling targets), when the gateway carries the observability hooks.
import { requestLogDir } from "../observe/requestlog.ts";
import type { Logger } from "./instance.ts";
import { buildStatus, coolingOf, type GatewayExtras, type StatusSources } from "./status.ts";

export async function connectLiveState(sources: () => StatusSources, log: Logger): Promise<void> {
  const first = sources();
  const observe = (first.gateway as GatewayExtras | null)?.observe;
  if (!observe) return;
  observe.setLive(() => {
    const src = sources();
    const now = Date.now();
    return { instances: buildStatus(src, now).instances, cooling: coolingOf(src.gateway, now) ?? [], writes: src.writes?.() ?? [] };
  });
  await observe.seedToday(requestLogDir(first.config)).catch((e: Error) => log.warn(`today's token counts start from zero: ${e.message}`));
}
