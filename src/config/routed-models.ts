// Which model names the `auto` router answers (pure), apart from its reader (router.ts): cld's route
// list and the LB's model ids need it without loading the config reader.
import type { RouterConfig } from "./types.ts";

/**
 * The models clients can send for the router to route: the activation models, when it is on and
 * rewrites (in shadow mode `auto` goes on unchanged and no route serves it).
 */
export function routedModels(router: RouterConfig | undefined): string[] {
  return router?.enabled && !router.shadowOnly ? [...router.activationModels] : [];
}
