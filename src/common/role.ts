import { registerEnumType } from 'type-graphql';

/** Roles of DESIGN §7. */
export enum Role {
  ADMIN = 'ADMIN',
  HEAD = 'HEAD',
  ANALYST = 'ANALYST',
  INTEGRATION = 'INTEGRATION',
}
registerEnumType(Role, {
  name: 'Role',
  valuesConfig: {
    ADMIN: { description: 'Manages catalogs, the charter, users and tokens; may act for any department.' },
    HEAD: { description: "A department's head: acts as that department's party." },
    ANALYST: { description: 'Reads everything, writes nothing (dashboards, BI).' },
    INTEGRATION: { description: "Automation: writes events for its department's agreements, reads." },
  },
});

/** Roles whose users act for one department. */
export const DEPARTMENT_ROLES: ReadonlySet<Role> = new Set([Role.HEAD, Role.INTEGRATION]);
