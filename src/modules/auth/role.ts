import { registerEnumType } from 'type-graphql';

/**
 * Roles of DESIGN §7. In a file of their own, importing no entity, so the authorization policy
 * (src/modules/auth/policy.ts) and every module can name them without an import cycle through
 * the User entity and the Department entity it refers to.
 */
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
