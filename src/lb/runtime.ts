// What the request path needs from one Config, derived once per (re)load so requests do no
// lookups by scanning. A request captures the Runtime current when it arrived and keeps it:
// that is what makes a reload atomic for requests in flight.

import type { Config, InstanceConfig } from "../config/types.ts";
import { type Masker, maskerOf } from "../observe/mask.ts";
import { type BrowserPolicy, browserPolicy } from "./browser.ts";
import { buildModelLists, type ModelLists } from "./models.ts";

export interface Runtime {
  readonly config: Config;
  readonly instances: ReadonlyMap<string, InstanceConfig>;
  readonly clientKeys: ReadonlySet<string>;
  /** Gets requests for models no route names (undefined only when there are no instances). */
  readonly defaultInstance: InstanceConfig | undefined;
  readonly models: ModelLists;
  /** Masks this config's secrets (and well-known token shapes) in everything logged. */
  readonly masker: Masker;
  /** Which Host names, Origins and preflights gw accepts (browser.ts). */
  readonly browser: BrowserPolicy;
}

export function buildRuntime(config: Config): Runtime {
  const instances = new Map(config.instances.map((i) => [i.name, i]));
  const wanted = config.global.lb.defaultInstance;
  let models: ModelLists | undefined;
  return {
    config,
    instances,
    clientKeys: new Set(config.global.apiKeys),
    defaultInstance: (wanted ? instances.get(wanted) : undefined) ?? config.instances[0],
    // On the first /v1/models after a (re)load, not in the reload: 500 routes' three bodies are
    // ~20 ms that every request would wait for, and most reloads see no model list asked.
    get models() {
      return (models ??= buildModelLists(config));
    },
    masker: maskerOf(config),
    browser: browserPolicy(config),
  };
}
