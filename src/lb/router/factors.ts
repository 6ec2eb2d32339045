// The router's factors of one request (model-router.md), computed lazily: a decision reads only
// the factors its signals and conditions name, and the request log asks for all of them (with
// log_factors) only after the response has ended — so the client never waits for the rest.

import { FACTORS, type FactorName } from "../../config/router-vocabulary.ts";
import { countMessagesAndTools } from "../upgrade.ts";
import { hasCodeContext, hasSystemPrompt, lastUserText, promptChars, systemTags, taskCategory, toolProfile } from "./classify.ts";

type Json = Record<string, unknown>;

interface Streaks {
  readonly failure: number;
  readonly success: number;
}

/** Names a condition may use for the same factor. */
const ALIASES: Partial<Record<FactorName, FactorName>> = {
  conversation_depth: "messages_count",
  system_tag: "system_prompt_type",
  system_prompt_tags: "system_prompt_type",
};

/** The factors the log records: each alias once, under the old LB's names. */
const LOGGED = FACTORS.filter((n) => n !== "system_tag" && n !== "system_prompt_tags");

export class Factors {
  private readonly memo = new Map<FactorName, unknown>();

  constructor(
    private readonly body: Json | undefined,
    /** The model the client sent. */
    readonly requested: string,
    /** The body carries signed thinking (lb/session.ts findSignature, already computed). */
    private readonly signed: boolean,
    /**
     * The streaks as they stood when the request came in (read then: the log asks for the factors
     * after the request's own outcome has moved them).
     */
    private readonly streaks: Streaks,
  ) {}

  /** Whether `name` is a factor at all (a condition on anything else finds its field missing). */
  static known(name: string): name is FactorName {
    return (FACTORS as readonly string[]).includes(name);
  }

  get(name: FactorName): unknown {
    const canonical = ALIASES[name] ?? name;
    if (this.memo.has(canonical)) return this.memo.get(canonical);
    const v = this.compute(canonical);
    this.memo.set(canonical, v);
    return v;
  }

  /** Every factor, for the request log and `gw route explain`. */
  all(): Record<string, unknown> {
    return Object.fromEntries(LOGGED.map((n) => [n, this.get(n)]));
  }

  private compute(name: FactorName): unknown {
    const b = this.body;
    switch (name) {
      case "requested_model":
        return this.requested || null;
      case "messages_count":
        return countMessagesAndTools(b).messages;
      case "tools_count":
        return countMessagesAndTools(b).tools;
      case "prompt_chars":
        return promptChars(b);
      case "has_thinking_signature":
        return this.signed;
      case "has_system_prompt":
        return hasSystemPrompt(b);
      case "failure_streak":
        return this.streaks.failure;
      case "success_streak":
        return this.streaks.success;
      case "last_user_text":
        return lastUserText(b);
      case "task_category":
        return taskCategory(this.get("last_user_text") as string);
      case "tool_profile":
        return toolProfile(b);
      case "has_code_context":
        return hasCodeContext(b);
      case "system_prompt_type":
        return systemTags(b);
      default:
        return undefined; // aliases are resolved before compute
    }
  }
}
