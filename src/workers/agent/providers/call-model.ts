/**
 * One model call with fallbacks: try the chain's models in order; a failure of a
 * fallback-eligible kind (auth, rate limit, server error, connection, timeout — §11.2) moves
 * on to the next model, but only while nothing of that call has been streamed (a reply is
 * never stitched from two models). Retries within one model are the SDK's (bounded, with
 * backoff). Dialect modules — and so the SDKs — are imported lazily, on first use.
 */
import { AgentError } from "../agent-errors.js";
import type { ProviderApi } from "../agent-config.js";
import type { ResolvedModel } from "./model-chain.js";
import type { Dialect, DialectOptions, FailureKind, ModelCallHandlers, ModelCallRequest, ModelCallResult, ProviderFailure } from "./provider-types.js";

const loaded = new Map<ProviderApi, Promise<Dialect>>();

/** The dialect module of `api` (imported once, on first use). */
export function loadDialect(api: ProviderApi): Promise<Dialect> {
  let p = loaded.get(api);
  if (p === undefined) {
    p = api === "anthropic-messages" ? import("./anthropic-messages.js").then((m) => m.dialect) : import("./openai-completions.js").then((m) => m.dialect);
    loaded.set(api, p);
  }
  return p;
}

const FALLBACK_KINDS: ReadonlySet<FailureKind> = new Set(["auth", "rate_limit", "server", "connection", "timeout"]);

/** Operator-facing text for a failed call. */
export function describeFailure(model: ResolvedModel, f: ProviderFailure): string {
  const where = `model ${model.ref}`;
  const http = f.status !== undefined ? ` (HTTP ${f.status})` : "";
  switch (f.kind) {
    case "auth":
      return `${where}: the provider rejected the credentials${http}: ${f.message}; check models.providers.${model.providerId}.apiKey`;
    case "rate_limit":
      return `${where}: rate limited by the provider${http} after retries: ${f.message}`;
    case "server":
      return `${where}: provider error${http} after retries: ${f.message}`;
    case "connection":
    case "timeout":
      return `${where}: could not reach the provider at ${model.baseUrl ?? "its default URL"} (${f.message}); check models.providers.${model.providerId}.baseUrl`;
    default:
      return `${where}: request failed${http}: ${f.message}`;
  }
}

/** Result of `callModel`: which model answered, and what earlier ones failed with. */
export interface CallModelResult {
  result: ModelCallResult;
  model: ResolvedModel;
  failures: string[];
}

/**
 * Calls the first model of `chain` that answers. Throws `AgentError`
 * (`GW_ERR_AGENT_PROVIDER_AUTH` / `GW_ERR_AGENT_PROVIDER_FAILED`) when none does; an abort
 * (`req.signal`) is rethrown as the signal's reason.
 */
export async function callModel(
  chain: readonly ResolvedModel[],
  req: Omit<ModelCallRequest, "model">,
  handlers: ModelCallHandlers,
  opts: DialectOptions = {},
): Promise<CallModelResult> {
  const failures: string[] = [];
  for (const [i, model] of chain.entries()) {
    const dialect = await loadDialect(model.api);
    let streamed = false;
    try {
      const result = await dialect.call(
        { ...req, model },
        {
          onTextDelta: (d) => {
            streamed = true;
            handlers.onTextDelta(d);
          },
        },
        opts,
      );
      return { result, model, failures };
    } catch (err) {
      if (req.signal.aborted) throw req.signal.reason;
      const f = dialect.classify(err);
      const text = describeFailure(model, f);
      failures.push(text);
      if (FALLBACK_KINDS.has(f.kind) && !streamed && i < chain.length - 1) continue;
      const summary = failures.length > 1 ? `${text} (also failed: ${failures.slice(0, -1).join("; ")})` : text;
      throw new AgentError(f.kind === "auth" ? "GW_ERR_AGENT_PROVIDER_AUTH" : "GW_ERR_AGENT_PROVIDER_FAILED", summary, { status: f.status, kind: f.kind, model: model.ref });
    }
  }
  throw new AgentError("GW_ERR_AGENT_NO_MODEL", "no model configured: set agents.defaults.model", { configKey: "agents.defaults.model" });
}
