/**
 * The one authorization policy (issue 14): may this principal do this to this object? Every
 * object-level check of the services asks {@link may} (or {@link assertMay}); the resolvers'
 * `@Authorized(...)` role lists are only the coarse gate before it, taken from this table by
 * {@link rolesFor} so the two cannot drift apart.
 *
 * Objects are plain data (an agreement's provider and customer department ids, the side that made
 * a request, a department id), so this file imports no entity of a module above auth and the
 * table below is the whole answer.
 */
import { ForbiddenError, UnauthenticatedError } from './errors';
import { Role } from './role';

/** Who asks: the part of a request's principal the policy reads. */
export interface Actor {
  role: Role;
  /** The departments a HEAD or INTEGRATION principal acts for; empty for the others. */
  departmentIds: readonly string[];
}

/** A party of an agreement. */
export type Side = 'PROVIDER' | 'CUSTOMER';

/** The side a principal takes in an agreement: a party, or an admin acting for either. */
export type ActingSide = Side | 'ADMIN';

/**
 * An agreement as the policy sees it: its two parties' department ids. A CORPORATE agreement has
 * neither (it binds every department), so only admins act on it.
 */
export interface AgreementParties {
  providerId: string | null;
  customerId: string | null;
}

/** A request made on an agreement (an amendment, a reopening), with the side that made it. */
export interface PartyRequest extends AgreementParties {
  requestedBy: ActingSide;
}

/** A department's own things (its service catalog). */
export interface DepartmentObject {
  departmentId: string;
}

/** Every action, with the object it is asked about. */
export interface PolicyObjects {
  'agreement:draft': AgreementParties;
  'agreement:approve': AgreementParties;
  'agreement:suspend': AgreementParties;
  'agreement:resume': AgreementParties;
  'agreement:terminate': AgreementParties;
  'amendment:propose': AgreementParties;
  /** Approve or reject: the amendment's `requestedBy` is the side that proposed it. */
  'amendment:decide': PartyRequest;
  'amendment:withdraw': PartyRequest;
  /** A party's request to suspend, resume or terminate (issue 16): `requestedBy` is the side that asked. */
  'lifecycle:decide': PartyRequest;
  'lifecycle:withdraw': PartyRequest;
  'report:draft': AgreementParties;
  'report:submit': AgreementParties;
  'report:acknowledge': AgreementParties;
  'report:dispute': AgreementParties;
  /** Admins only, whatever the agreement: the object is not read and may be null. */
  'dispute:settle': AgreementParties | null;
  'exclusion:request': AgreementParties;
  'exclusion:decide': AgreementParties;
  'reopening:request': AgreementParties;
  /** Approve or reject: `requestedBy` is the side that asked for the reopening. */
  'reopening:decide': PartyRequest;
  'escalation:open': AgreementParties;
  'escalation:acknowledge': AgreementParties;
  'escalation:resolve': AgreementParties;
  'handoff:ingest': AgreementParties;
  'measurement:ingest': AgreementParties;
  'escalation:ingest': AgreementParties;
  'service:manage': DepartmentObject;
  /** Webhook subscriptions for a department's events (issue 15): its heads, or an admin for any department. */
  'webhook:manage': DepartmentObject;
  /** The organisation itself, the metric catalog, who may use the API, and the audit log: admins only, no party involved. */
  'department:manage': null;
  'metric:manage': null;
  'user:manage': null;
  'token:manage': null;
  'audit:read': null;
}

/** The named actions of the policy. */
export type Action = keyof PolicyObjects;

/**
 * Why a principal was refused, so each service keeps its own message: NOT_PARTY, its role may not
 * or it does not act for the party concerned; WRONG_SIDE, it is a party but the request's side
 * makes the call the other party's (or, for a withdrawal, the requester's).
 */
export type Refusal = 'NOT_PARTY' | 'WRONG_SIDE';

/** One row of the policy: who besides admins may act, and for which party. */
interface Rule {
  /** The non-admin roles that may act, for the party named by `for`. Empty: admins only. */
  roles: readonly Role[];
  /** The party the principal must act for: either of the agreement's, one of them, or the department. */
  for: 'EITHER' | Side | 'DEPARTMENT';
  /**
   * Relative to a request's side: OTHER, the party that did not make it decides (the requester
   * does not approve its own request); SAME, only the requester's party (withdrawal).
   */
  requester?: 'OTHER' | 'SAME';
  /**
   * Whether the requester rule binds admins too on an agreement with parties: an amendment an
   * admin proposed needs both heads' approval, never an admin's own; a reopening an admin asked
   * for takes effect at once, so admins are never held back there.
   */
  bindsAdmins?: boolean;
}

const HEAD_ONLY = [Role.HEAD] as const;
const HEAD_OR_INTEGRATION = [Role.HEAD, Role.INTEGRATION] as const;

/**
 * The policy as data. Admins may every action (save where `bindsAdmins` says otherwise); the rows
 * say who else may. Derived from the checks the services made before issue 14.
 */
const RULES: { readonly [A in Action]: Rule } = {
  'agreement:draft': { roles: HEAD_ONLY, for: 'EITHER' },
  'agreement:approve': { roles: HEAD_ONLY, for: 'EITHER' },
  'agreement:suspend': { roles: HEAD_ONLY, for: 'EITHER' },
  'agreement:resume': { roles: HEAD_ONLY, for: 'EITHER' },
  'agreement:terminate': { roles: HEAD_ONLY, for: 'EITHER' },
  'amendment:propose': { roles: HEAD_ONLY, for: 'EITHER' },
  'amendment:decide': { roles: HEAD_ONLY, for: 'EITHER', requester: 'OTHER', bindsAdmins: true },
  'amendment:withdraw': { roles: HEAD_ONLY, for: 'EITHER', requester: 'SAME' },
  'lifecycle:decide': { roles: HEAD_ONLY, for: 'EITHER', requester: 'OTHER' },
  'lifecycle:withdraw': { roles: HEAD_ONLY, for: 'EITHER', requester: 'SAME' },
  'report:draft': { roles: HEAD_ONLY, for: 'PROVIDER' },
  'report:submit': { roles: HEAD_ONLY, for: 'PROVIDER' },
  'report:acknowledge': { roles: HEAD_ONLY, for: 'CUSTOMER' },
  'report:dispute': { roles: HEAD_ONLY, for: 'CUSTOMER' },
  'dispute:settle': { roles: [], for: 'EITHER' },
  'exclusion:request': { roles: HEAD_ONLY, for: 'PROVIDER' },
  'exclusion:decide': { roles: HEAD_ONLY, for: 'CUSTOMER' },
  'reopening:request': { roles: HEAD_ONLY, for: 'EITHER' },
  'reopening:decide': { roles: HEAD_ONLY, for: 'EITHER', requester: 'OTHER' },
  // Escalations are raised by either party and answered by the provider, people or automation.
  'escalation:open': { roles: HEAD_OR_INTEGRATION, for: 'EITHER' },
  'escalation:acknowledge': { roles: HEAD_OR_INTEGRATION, for: 'PROVIDER' },
  'escalation:resolve': { roles: HEAD_OR_INTEGRATION, for: 'PROVIDER' },
  // Handoff events come from the parties' automation, not from their heads.
  'handoff:ingest': { roles: [Role.INTEGRATION], for: 'EITHER' },
  // So do external measurements (monitoring) and batches of escalations (ticketing), issue 16.
  'measurement:ingest': { roles: [Role.INTEGRATION], for: 'EITHER' },
  'escalation:ingest': { roles: [Role.INTEGRATION], for: 'EITHER' },
  'service:manage': { roles: HEAD_ONLY, for: 'DEPARTMENT' },
  'webhook:manage': { roles: HEAD_ONLY, for: 'DEPARTMENT' },
  // The organisation's structure, its metrics, its users and tokens, and the audit trail.
  'department:manage': { roles: [], for: 'EITHER' },
  'metric:manage': { roles: [], for: 'EITHER' },
  'user:manage': { roles: [], for: 'EITHER' },
  'token:manage': { roles: [], for: 'EITHER' },
  'audit:read': { roles: [], for: 'EITHER' },
};

/**
 * Who may read a domain event, an inbox item or a live update (DESIGN §10): admins and analysts
 * the organisation's; a HEAD or INTEGRATION principal those of the agreements its departments are
 * a party to, and those of CORPORATE agreements (no parties: they bind every department). `parties`
 * is the event's envelope: the agreement's provider and customer department ids.
 */
export function mayReadEvent(actor: Actor, parties: AgreementParties): boolean {
  if (actor.role === Role.ADMIN || actor.role === Role.ANALYST) return true;
  if (parties.providerId === null && parties.customerId === null) return true;
  return (parties.providerId !== null && actor.departmentIds.includes(parties.providerId)) || (parties.customerId !== null && actor.departmentIds.includes(parties.customerId));
}

/** Every action of the policy, in the order of the table (for tests and documentation). */
export const ACTIONS = Object.keys(RULES) as Action[];

/**
 * The side a principal takes in an agreement: ADMIN for admins, else the party whose department
 * it acts for, else null. For the record (who proposed, for which party an approval counts);
 * whether it may act at all is {@link may}'s answer.
 */
export function sideIn(actor: Actor, agreement: AgreementParties): ActingSide | null {
  if (actor.role === Role.ADMIN) return 'ADMIN';
  if (agreement.providerId && actor.departmentIds.includes(agreement.providerId)) return 'PROVIDER';
  if (agreement.customerId && actor.departmentIds.includes(agreement.customerId)) return 'CUSTOMER';
  return null;
}

/** Whether the department roles of a rule act for the object: its party, or its department. */
function actsFor(actor: Actor, rule: Rule, object: AgreementParties | DepartmentObject | null): boolean {
  if (!object) return false;
  if ('departmentId' in object) return rule.for === 'DEPARTMENT' && actor.departmentIds.includes(object.departmentId);
  const side = sideIn(actor, object);
  return side !== null && (rule.for === 'EITHER' || rule.for === side);
}

/** The object as a request with a side, when it is one. */
function requestIn(object: AgreementParties | PartyRequest | DepartmentObject | null): PartyRequest | null {
  return object && 'requestedBy' in object ? object : null;
}

/**
 * Why `actor` may not do `action` to `object`, or null when it may. NOT_PARTY is decided before
 * WRONG_SIDE, so a stranger never learns whose call a request is.
 */
export function refusalOf<A extends Action>(actor: Actor, action: A, object: PolicyObjects[A]): Refusal | null {
  const rule: Rule = RULES[action];
  const request = requestIn(object);
  if (actor.role === Role.ADMIN) {
    // An agreement without parties (CORPORATE) has no other side: its admins decide their own requests.
    const hasParties = !!request && (request.providerId !== null || request.customerId !== null);
    if (rule.bindsAdmins && rule.requester === 'OTHER' && hasParties && request.requestedBy === 'ADMIN') return 'WRONG_SIDE';
    return null;
  }
  if (!rule.roles.includes(actor.role) || !actsFor(actor, rule, object)) return 'NOT_PARTY';
  if (rule.requester && request) {
    const own = sideIn(actor, request) === request.requestedBy;
    if (rule.requester === 'OTHER' ? own : !own) return 'WRONG_SIDE';
  }
  return null;
}

/** May `actor` do `action` to `object`? The one answer of the API (see {@link RULES}). */
export function may<A extends Action>(actor: Actor, action: A, object: PolicyObjects[A]): boolean {
  return refusalOf(actor, action, object) === null;
}

/**
 * The roles that may do `action` to some object, in the Role enum's order: what a resolver's
 * coarse `@Authorized(...)` gate would list for it.
 */
export function rolesFor(action: Action): Role[] {
  const rule = RULES[action];
  return Object.values(Role).filter((r) => r === Role.ADMIN || rule.roles.includes(r));
}

/**
 * Refuses (FORBIDDEN) unless the request's principal may do `action` to `object`; UNAUTHENTICATED
 * without a principal. `describe` writes the message, so each service keeps the words its
 * callers know; it is told the principal and why it was refused.
 */
export function assertMay<A extends Action>(ctx: { principal: Actor | null }, action: A, object: PolicyObjects[A], describe: (actor: Actor, refusal: Refusal) => string): void {
  const actor = ctx.principal;
  if (!actor) throw new UnauthenticatedError();
  const refusal = refusalOf(actor, action, object);
  if (refusal) throw new ForbiddenError(describe(actor, refusal));
}
