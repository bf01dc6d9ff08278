/**
 * Roles, operator scopes and the per-method authorisation of §3.0, plus the scope
 * guard of broadcast events (§4.2).
 */
import { scopeClassOf } from "./methods.js";

export const SCOPE_ADMIN = "operator.admin";
export const SCOPE_READ = "operator.read";
export const SCOPE_WRITE = "operator.write";
export const SCOPE_APPROVALS = "operator.approvals";
export const SCOPE_PAIRING = "operator.pairing";

export type Role = "operator" | "node";

/** Normalises requested scopes: operators default to admin, nodes to none (§2.3). */
export function resolveScopes(role: Role, requested: readonly string[] | undefined): string[] {
  const list = (requested ?? []).map((s) => s.trim()).filter((s) => s.length > 0);
  if (role === "operator" && list.length === 0) return [SCOPE_ADMIN];
  return [...new Set(list)];
}

/** Returns null when allowed, else the reference's error message. */
export function authorizeMethod(role: Role, scopes: readonly string[], method: string): string | null {
  const cls = scopeClassOf(method);
  if (cls === "node") return role === "node" ? null : `unauthorized role: ${role}`;
  if (role === "node") return "unauthorized role: node";
  if (scopes.includes(SCOPE_ADMIN)) return null;
  switch (cls) {
    case "approvals":
      return scopes.includes(SCOPE_APPROVALS) ? null : `missing scope: ${SCOPE_APPROVALS}`;
    case "pairing":
      return scopes.includes(SCOPE_PAIRING) ? null : `missing scope: ${SCOPE_PAIRING}`;
    case "read":
      return scopes.includes(SCOPE_READ) || scopes.includes(SCOPE_WRITE) ? null : `missing scope: ${SCOPE_READ}`;
    case "write":
      return scopes.includes(SCOPE_WRITE) ? null : `missing scope: ${SCOPE_WRITE}`;
    case "admin":
      return `missing scope: ${SCOPE_ADMIN}`;
  }
}

/** Audience classes used for broadcast topics (one uWS topic each). */
export type Audience = "all" | "operators" | "pairing" | "approvals";

/** The audience a connection belongs to, besides "all". */
export function audiencesOf(role: Role, scopes: readonly string[]): Audience[] {
  if (role === "node") return ["all"];
  const out: Audience[] = ["all", "operators"];
  const admin = scopes.includes(SCOPE_ADMIN);
  if (admin || scopes.includes(SCOPE_PAIRING)) out.push("pairing");
  if (admin || scopes.includes(SCOPE_APPROVALS)) out.push("approvals");
  return out;
}
