// The models an instance registers, the lookup a request's model goes through, and the three
// listings (/v1/models in OpenAI or Anthropic shape, /v1beta/models): the YAML's models, then
// those of the OAuth credentials in auth-dir (oauth-models.ts).

import type { MockModel } from "./config.ts";
import { credentialFor, oauthListed } from "./oauth-models.ts";

/** CLIProxyAPI "cloaks" non-Claude ids in Anthropic listings as this prefix + the id reversed. */
const CLOAK_PREFIX = "claude-fable-5-dd-";
const reverse = (s: string) => Array.from(s).reverse().join("");
const cloak = (id: string) => (id.startsWith("claude-") ? id : CLOAK_PREFIX + reverse(id));

/** `m(8192)` / `m(high)` set thinking; the base name is what the registry knows. */
export function stripThinking(model: string): string {
  const open = model.lastIndexOf("(");
  return open > 0 && model.endsWith(")") ? model.slice(0, open) : model;
}

export class Catalog {
  private readonly byId = new Map<string, MockModel>();
  /** byId's models, then the credentials' that no YAML section lists. */
  private readonly listed: readonly MockModel[];
  /** Start-up time, the `created` of every listed model. */
  private readonly created = Math.floor(Date.now() / 1000);

  constructor(
    readonly models: readonly MockModel[],
    private readonly fallbackProvider: string,
    /** OAuth credential types in auth-dir: each registers its built-in models (upstream.ts). */
    private readonly authTypes: readonly string[] = [],
  ) {
    for (const m of models) if (!this.byId.has(m.id)) this.byId.set(m.id, m);
    this.listed = [...this.byId.values(), ...oauthListed(authTypes).filter((m) => !this.byId.has(m.id))];
  }

  /**
   * Provider for a model: the section that lists it, else the auth-dir credential whose built-in
   * list holds it; null when the instance lists models and neither does.
   */
  provider(model: string): string | null {
    // No name (or a body that is not JSON) never resolves, whatever is registered (GetProviderName).
    if (!model) return null;
    let base = stripThinking(model);
    if (base.startsWith(CLOAK_PREFIX)) base = reverse(base.slice(CLOAK_PREFIX.length));
    const listed = this.byId.get(base)?.provider ?? credentialFor(base, this.authTypes);
    if (listed) return listed;
    return this.byId.size === 0 ? this.fallbackProvider : null;
  }

  openai(): string {
    const data = this.listed.map((m) => ({ created: this.created, id: m.id, object: "model", owned_by: m.ownedBy ?? m.provider }));
    return JSON.stringify({ data, object: "list" });
  }

  anthropic(): string {
    const createdAt = new Date(this.created * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    const data = this.listed
      .map((m) => ({ created_at: createdAt, display_name: m.id, id: cloak(m.id), type: "model" }))
      .sort((a, b) => (a.display_name === b.display_name ? (a.id < b.id ? -1 : 1) : a.display_name < b.display_name ? -1 : 1));
    return JSON.stringify({ data, first_id: data[0]?.id ?? "", has_more: false, last_id: data.at(-1)?.id ?? "" });
  }

  gemini(): string {
    const models = this.listed.map((m) => ({
      description: m.id,
      displayName: m.id,
      name: `models/${m.id}`,
      supportedGenerationMethods: ["generateContent"],
    }));
    return JSON.stringify({ models });
  }
}
