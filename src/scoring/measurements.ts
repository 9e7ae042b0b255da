/**
 * External measurements as pure rules (issue 16, DESIGN §6): the value of an EXTERNAL metric in
 * one agreement-month from the measurements a monitoring or ticketing system pushed, each a value
 * over an interval (a monthly value is an interval spanning its month). The ORM side gathers the
 * rows and turns the month into instants in the agreement's time zone; nothing here reads a clock.
 */

/** How the measurements of a month become its value (declared on each EXTERNAL metric). */
export const MEASUREMENT_AGGREGATIONS = ['MEAN', 'SUM', 'LAST', 'TIME_WEIGHTED'] as const;
export type MeasurementAggregationName = (typeof MEASUREMENT_AGGREGATIONS)[number];

/** One measurement: a value over `[from, to)`, instants in epoch milliseconds (`from < to`). */
export interface MeasuredInterval {
  from: number;
  to: number;
  value: number;
  /** Breaks ties for LAST between intervals ending and starting at the same instants (the external id). */
  key: string;
}

const round9 = (x: number) => Math.round(x * 1e9) / 1e9;

/**
 * The value of one month (`[monthFrom, monthTo)`) from the measurements overlapping it, or null
 * when none does. A measurement counts in every month its interval overlaps:
 * - MEAN: the plain mean of the values;
 * - SUM: each value prorated by the share of its interval inside the month (a monthly value counts
 *   whole; an interval half in the month counts half);
 * - LAST: the value of the interval ending latest (then starting latest, then the greatest key);
 * - TIME_WEIGHTED: the mean weighted by each interval's duration clipped to the month, over the
 *   time measured (time no measurement covers counts neither way), as availability is: intervals
 *   up (100) and down (0) give the share of the measured time that was up.
 * Results are rounded to 1e-9, as the other automated metrics are.
 */
export function aggregateMeasurements(aggregation: MeasurementAggregationName, list: readonly MeasuredInterval[], monthFrom: number, monthTo: number): number | null {
  const inMonth = list.map((m) => ({ m, overlap: Math.min(m.to, monthTo) - Math.max(m.from, monthFrom) })).filter((x) => x.overlap > 0 && x.m.to > x.m.from);
  if (!inMonth.length) return null;
  switch (aggregation) {
    case 'MEAN':
      return round9(inMonth.reduce((s, x) => s + x.m.value, 0) / inMonth.length);
    case 'SUM':
      return round9(inMonth.reduce((s, x) => s + (x.m.value * x.overlap) / (x.m.to - x.m.from), 0));
    case 'LAST': {
      let last = inMonth[0].m;
      for (const { m } of inMonth) if (m.to > last.to || (m.to === last.to && (m.from > last.from || (m.from === last.from && m.key > last.key)))) last = m;
      return round9(last.value);
    }
    case 'TIME_WEIGHTED': {
      let weighted = 0;
      let total = 0;
      for (const x of inMonth) {
        weighted += x.m.value * x.overlap;
        total += x.overlap;
      }
      return round9(weighted / total);
    }
  }
}
