import { describe, expect, it } from 'vitest';
import { ForbiddenError, UnauthenticatedError } from '../../src/common/errors';
import { ACTIONS, type Action, type ActingSide, type Actor, type AgreementParties, assertMay, may, mayReadEvent, refusalOf, rolesFor, sideIn } from '../../src/common/policy';
import { Role } from '../../src/common/role';

// The policy as a table, every cell written out: one row per action and role, one column per
// kind of object. "own" is the department of the HEAD or INTEGRATION principal asking; ADMIN and
// ANALYST principals act for no department.
const OWN = 'dept-own';
const actor = (role: Role): Actor => ({ role, departmentIds: role === Role.HEAD || role === Role.INTEGRATION ? [OWN] : [] });

const Y = true;
const N = false;

/** The agreements a principal may meet: its department provides, receives, is no party, or none is (CORPORATE). */
const AGREEMENTS: Record<'provider' | 'customer' | 'other' | 'corporate', AgreementParties> = {
  provider: { providerId: OWN, customerId: 'dept-x' },
  customer: { providerId: 'dept-x', customerId: OWN },
  other: { providerId: 'dept-x', customerId: 'dept-y' },
  corporate: { providerId: null, customerId: null },
};

type RequestAction = 'amendment:decide' | 'amendment:withdraw' | 'lifecycle:decide' | 'lifecycle:withdraw' | 'reopening:decide';
type AdminAction = 'department:manage' | 'metric:manage' | 'user:manage' | 'token:manage' | 'audit:read';
type DepartmentAction = 'service:manage' | 'webhook:manage';
type AgreementAction = Exclude<Action, RequestAction | AdminAction | DepartmentAction>;
type Row<T extends boolean[]> = Record<Role, T>;

/** Columns: own department is the provider, the customer, no party, or the agreement is CORPORATE. */
type AgreementCells = [provider: boolean, customer: boolean, other: boolean, corporate: boolean];

const AGREEMENT_TABLE: Record<AgreementAction, Row<AgreementCells>> = {
  'agreement:draft': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'agreement:approve': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'agreement:suspend': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'agreement:resume': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'agreement:terminate': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'amendment:propose': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'report:draft': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, N, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'report:submit': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, N, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'report:acknowledge': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [N, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'report:dispute': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [N, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'dispute:settle': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [N, N, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'exclusion:request': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, N, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'exclusion:decide': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [N, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'reopening:request': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [N, N, N, N],
  },
  'escalation:open': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, Y, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [Y, Y, N, N],
  },
  'escalation:acknowledge': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, N, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [Y, N, N, N],
  },
  'escalation:resolve': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, N, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [Y, N, N, N],
  },
  'handoff:ingest': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [N, N, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [Y, Y, N, N],
  },
  'measurement:ingest': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [N, N, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [Y, Y, N, N],
  },
  'escalation:ingest': {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [N, N, N, N],
    ANALYST: [N, N, N, N],
    INTEGRATION: [Y, Y, N, N],
  },
};

/**
 * Requests made by a side (amendments, reopenings). Columns: the agreement as above, times the
 * side that made the request (P = the provider's head, C = the customer's head, A = an admin); a
 * CORPORATE agreement's requests are an admin's only.
 */
type RequestCells = [
  providerByP: boolean,
  providerByC: boolean,
  providerByA: boolean,
  customerByP: boolean,
  customerByC: boolean,
  customerByA: boolean,
  otherByP: boolean,
  otherByC: boolean,
  otherByA: boolean,
  corporateByA: boolean,
];
const REQUEST_COLUMNS: Array<[keyof typeof AGREEMENTS, ActingSide]> = [
  ['provider', 'PROVIDER'],
  ['provider', 'CUSTOMER'],
  ['provider', 'ADMIN'],
  ['customer', 'PROVIDER'],
  ['customer', 'CUSTOMER'],
  ['customer', 'ADMIN'],
  ['other', 'PROVIDER'],
  ['other', 'CUSTOMER'],
  ['other', 'ADMIN'],
  ['corporate', 'ADMIN'],
];

const REQUEST_TABLE: Record<RequestAction, Row<RequestCells>> = {
  // The other party approves or rejects; an admin's proposal waits for both heads, not an admin.
  'amendment:decide': {
    ADMIN: [Y, Y, N, Y, Y, N, Y, Y, N, Y],
    HEAD: [N, Y, Y, Y, N, Y, N, N, N, N],
    ANALYST: [N, N, N, N, N, N, N, N, N, N],
    INTEGRATION: [N, N, N, N, N, N, N, N, N, N],
  },
  // The proposer's party withdraws, or any admin.
  'amendment:withdraw': {
    ADMIN: [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y],
    HEAD: [Y, N, N, N, Y, N, N, N, N, N],
    ANALYST: [N, N, N, N, N, N, N, N, N, N],
    INTEGRATION: [N, N, N, N, N, N, N, N, N, N],
  },
  // Suspend, resume, terminate (issue 16): the other party's head approves or rejects, or any admin.
  'lifecycle:decide': {
    ADMIN: [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y],
    HEAD: [N, Y, Y, Y, N, Y, N, N, N, N],
    ANALYST: [N, N, N, N, N, N, N, N, N, N],
    INTEGRATION: [N, N, N, N, N, N, N, N, N, N],
  },
  // The requester's party withdraws, or any admin.
  'lifecycle:withdraw': {
    ADMIN: [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y],
    HEAD: [Y, N, N, N, Y, N, N, N, N, N],
    ANALYST: [N, N, N, N, N, N, N, N, N, N],
    INTEGRATION: [N, N, N, N, N, N, N, N, N, N],
  },
  // The other party's head decides, or any admin.
  'reopening:decide': {
    ADMIN: [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y],
    HEAD: [N, Y, Y, Y, N, Y, N, N, N, N],
    ANALYST: [N, N, N, N, N, N, N, N, N, N],
    INTEGRATION: [N, N, N, N, N, N, N, N, N, N],
  },
};

/** A department's service catalog and its webhooks. Columns: the principal's own department, another one. */
const DEPARTMENT_TABLE: Record<DepartmentAction, Row<[own: boolean, other: boolean]>> = {
  'service:manage': {
    ADMIN: [Y, Y],
    HEAD: [Y, N],
    ANALYST: [N, N],
    INTEGRATION: [N, N],
  },
  'webhook:manage': {
    ADMIN: [Y, Y],
    HEAD: [Y, N],
    ANALYST: [N, N],
    INTEGRATION: [N, N],
  },
};

/** The organisation's own things: no party is involved, and only admins may. */
const ADMIN_TABLE: Record<AdminAction, Row<[allowed: boolean]>> = {
  'department:manage': { ADMIN: [Y], HEAD: [N], ANALYST: [N], INTEGRATION: [N] },
  'metric:manage': { ADMIN: [Y], HEAD: [N], ANALYST: [N], INTEGRATION: [N] },
  'user:manage': { ADMIN: [Y], HEAD: [N], ANALYST: [N], INTEGRATION: [N] },
  'token:manage': { ADMIN: [Y], HEAD: [N], ANALYST: [N], INTEGRATION: [N] },
  'audit:read': { ADMIN: [Y], HEAD: [N], ANALYST: [N], INTEGRATION: [N] },
};

const ROLES = Object.values(Role);
const AGREEMENT_COLUMNS = Object.keys(AGREEMENTS) as Array<keyof typeof AGREEMENTS>;

describe('the authorization policy, as a table', () => {
  it('has a row for every action and every role', () => {
    expect([...Object.keys(AGREEMENT_TABLE), ...Object.keys(REQUEST_TABLE), ...Object.keys(DEPARTMENT_TABLE), ...Object.keys(ADMIN_TABLE)].sort()).toEqual([...ACTIONS].sort());
    for (const table of [AGREEMENT_TABLE, REQUEST_TABLE, DEPARTMENT_TABLE, ADMIN_TABLE]) {
      for (const row of Object.values(table)) expect(Object.keys(row).sort()).toEqual([...ROLES].sort());
    }
  });

  const agreementCells = Object.entries(AGREEMENT_TABLE).flatMap(([action, row]) =>
    ROLES.flatMap((role) => AGREEMENT_COLUMNS.map((column, i) => [action as keyof typeof AGREEMENT_TABLE, role, column, row[role][i]] as const)),
  );
  it.each(agreementCells)('%s by %s on a %s agreement: %s', (action, role, column, expected) => {
    expect(may(actor(role), action, AGREEMENTS[column])).toBe(expected);
  });

  const requestCells = Object.entries(REQUEST_TABLE).flatMap(([action, row]) =>
    ROLES.flatMap((role) => REQUEST_COLUMNS.map(([column, by], i) => [action as RequestAction, role, column, by, row[role][i]] as const)),
  );
  it.each(requestCells)('%s by %s on a %s agreement, requested by %s: %s', (action, role, column, by, expected) => {
    expect(may(actor(role), action, { ...AGREEMENTS[column], requestedBy: by })).toBe(expected);
  });

  const departmentCells = (Object.keys(DEPARTMENT_TABLE) as DepartmentAction[]).flatMap((action) =>
    ROLES.flatMap((role) => (['own', 'other'] as const).map((column, i) => [action, role, column, DEPARTMENT_TABLE[action][role][i]] as const)),
  );
  it.each(departmentCells)('%s by %s for its %s department: %s', (action, role, column, expected) => {
    expect(may(actor(role), action, { departmentId: column === 'own' ? OWN : 'dept-x' })).toBe(expected);
  });

  /** Reading events. Columns as for agreements: own department is the provider, the customer, no party, CORPORATE. */
  const EVENT_ROW: Row<AgreementCells> = {
    ADMIN: [Y, Y, Y, Y],
    HEAD: [Y, Y, N, Y],
    ANALYST: [Y, Y, Y, Y],
    INTEGRATION: [Y, Y, N, Y],
  };
  const eventCells = ROLES.flatMap((role) => AGREEMENT_COLUMNS.map((column, i) => [role, column, EVENT_ROW[role][i]] as const));
  it.each(eventCells)('reading an event by %s on a %s agreement: %s', (role, column, expected) => {
    expect(mayReadEvent(actor(role), AGREEMENTS[column])).toBe(expected);
  });

  const adminCells = (Object.keys(ADMIN_TABLE) as AdminAction[]).flatMap((action) => ROLES.map((role) => [action, role, ADMIN_TABLE[action][role][0]] as const));
  it.each(adminCells)('%s by %s: %s', (action, role, expected) => {
    expect(may(actor(role), action, null)).toBe(expected);
    expect(rolesFor(action).includes(role)).toBe(expected);
  });

  it('lets only admins settle a dispute without reading the agreement', () => {
    expect(ROLES.map((role) => [role, may(actor(role), 'dispute:settle', null)])).toEqual([
      ['ADMIN', true],
      ['HEAD', false],
      ['ANALYST', false],
      ['INTEGRATION', false],
    ]);
  });

  it('never lets a department principal act for a department it does not hold, whatever its role', () => {
    const stranger: Actor = { role: Role.HEAD, departmentIds: [] };
    for (const action of ACTIONS) {
      const object = action === 'service:manage' || action === 'webhook:manage' ? { departmentId: OWN } : { ...AGREEMENTS.provider, requestedBy: 'CUSTOMER' as const };
      expect([action, may(stranger, action, object as never)]).toEqual([action, false]);
    }
  });
});

describe('why the policy refuses', () => {
  it('says NOT_PARTY before WRONG_SIDE', () => {
    const head = actor(Role.HEAD);
    expect(refusalOf(head, 'amendment:decide', { ...AGREEMENTS.other, requestedBy: 'PROVIDER' })).toBe('NOT_PARTY');
    expect(refusalOf(actor(Role.ANALYST), 'amendment:decide', { ...AGREEMENTS.provider, requestedBy: 'CUSTOMER' })).toBe('NOT_PARTY');
    expect(refusalOf(head, 'amendment:decide', { ...AGREEMENTS.provider, requestedBy: 'PROVIDER' })).toBe('WRONG_SIDE');
    expect(refusalOf(head, 'amendment:withdraw', { ...AGREEMENTS.provider, requestedBy: 'CUSTOMER' })).toBe('WRONG_SIDE');
    expect(refusalOf(actor(Role.ADMIN), 'amendment:decide', { ...AGREEMENTS.provider, requestedBy: 'ADMIN' })).toBe('WRONG_SIDE');
    expect(refusalOf(head, 'amendment:decide', { ...AGREEMENTS.provider, requestedBy: 'CUSTOMER' })).toBeNull();
  });
});

describe('sideIn', () => {
  it('names the side a principal takes in an agreement', () => {
    expect(sideIn(actor(Role.ADMIN), AGREEMENTS.other)).toBe('ADMIN');
    expect(sideIn(actor(Role.HEAD), AGREEMENTS.provider)).toBe('PROVIDER');
    expect(sideIn(actor(Role.HEAD), AGREEMENTS.customer)).toBe('CUSTOMER');
    expect(sideIn(actor(Role.HEAD), AGREEMENTS.other)).toBeNull();
    expect(sideIn(actor(Role.HEAD), AGREEMENTS.corporate)).toBeNull();
    expect(sideIn(actor(Role.ANALYST), AGREEMENTS.provider)).toBeNull();
  });
});

describe('rolesFor', () => {
  it('lists the roles a coarse gate lets through, in the enum order', () => {
    expect(rolesFor('report:submit')).toEqual([Role.ADMIN, Role.HEAD]);
    expect(rolesFor('dispute:settle')).toEqual([Role.ADMIN]);
    expect(rolesFor('escalation:open')).toEqual([Role.ADMIN, Role.HEAD, Role.INTEGRATION]);
    expect(rolesFor('handoff:ingest')).toEqual([Role.ADMIN, Role.INTEGRATION]);
  });
});

describe('assertMay', () => {
  it('passes silently when the policy allows', () => {
    expect(() => assertMay({ principal: actor(Role.HEAD) }, 'report:submit', AGREEMENTS.provider, () => 'unused')).not.toThrow();
  });

  it('throws FORBIDDEN with the caller’s message, told the principal and the refusal', () => {
    let told: unknown[] = [];
    const call = () =>
      assertMay({ principal: actor(Role.HEAD) }, 'amendment:decide', { ...AGREEMENTS.customer, requestedBy: 'CUSTOMER' }, (p, refusal) => {
        told = [p.role, refusal];
        return `A ${p.role} principal may not approve this`;
      });
    expect(call).toThrow(ForbiddenError);
    expect(call).toThrow('A HEAD principal may not approve this');
    expect(told).toEqual(['HEAD', 'WRONG_SIDE']);
    try {
      call();
    } catch (e) {
      expect((e as ForbiddenError).extensions.code).toBe('FORBIDDEN');
    }
  });

  it('throws UNAUTHENTICATED without a principal', () => {
    expect(() => assertMay({ principal: null }, 'report:submit', AGREEMENTS.provider, () => 'unused')).toThrow(UnauthenticatedError);
  });
});
