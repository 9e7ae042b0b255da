import { registerEnumType } from 'type-graphql';

/**
 * A party of a CUSTOMER or SERVICE agreement, as the schema names it (the `Side` of the policy,
 * as a GraphQL enum): who owes a responsibility, whose contact a person is, which scorecard of a
 * department (`as:`), which party an admin approves for.
 */
export enum PartyRole {
  PROVIDER = 'PROVIDER',
  CUSTOMER = 'CUSTOMER',
}
registerEnumType(PartyRole, {
  name: 'PartyRole',
  description: 'A party of an agreement.',
  valuesConfig: {
    PROVIDER: { description: 'The department that provides the service and reports on it.' },
    CUSTOMER: { description: 'The department that receives it and acknowledges or disputes the reports.' },
  },
});

/** The side that made a request on an agreement (an amendment, a reopening): a party, or an admin acting for either (the policy's `ActingSide`). */
export enum RequesterSide {
  PROVIDER = 'PROVIDER',
  CUSTOMER = 'CUSTOMER',
  ADMIN = 'ADMIN',
}
registerEnumType(RequesterSide, {
  name: 'RequesterSide',
  description: 'The side that made a request; the other side decides it (either party when an admin asked).',
  valuesConfig: {
    PROVIDER: { description: 'The provider’s head.' },
    CUSTOMER: { description: 'The customer’s head.' },
    ADMIN: { description: 'An administrator, acting for neither party.' },
  },
});
