import { expect } from 'vitest';
import { ApproveAgreementDocument, CreateAgreementDocument, type CreateAgreementInput } from '../generated/graphql';
import type { TestServer } from './server';

/**
 * Drafts an agreement as the admin and activates it (an admin's approval for CORPORATE, each
 * party's for the others) at `at` on the test clock: January 2026 by default, so terms from
 * January are signed on time and their reports fall due as the calendar says.
 */
export async function activateAgreement(s: TestServer, input: CreateAgreementInput, at = '2026-01-05T00:00:00Z'): Promise<string> {
  const created = await s.data(CreateAgreementDocument, { input });
  expect(created.createAgreement.userErrors).toEqual([]);
  let a = created.createAgreement.agreement!;
  for (const party of input.tier === 'CORPORATE' ? [undefined] : (['PROVIDER', 'CUSTOMER'] as const)) {
    a = (await s.at(at).data(ApproveAgreementDocument, { input: { id: a.id, expectedVersion: a.lockVersion, party } })).approveAgreement.agreement!;
  }
  expect(a.status).toBe('ACTIVE');
  return a.id;
}
