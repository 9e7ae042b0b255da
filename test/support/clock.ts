import type { Month } from '../../src/common/month';

/** The month an instant falls in, in Berlin (the demo calendars' zone). */
export function berlinMonth(at: Date): Month {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit' }).formatToParts(at);
  return `${parts.find((p) => p.type === 'year')?.value}-${parts.find((p) => p.type === 'month')?.value}`;
}
