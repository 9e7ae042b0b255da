import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acceptanceDue,
  AROUND_THE_CLOCK,
  monthEndsAt,
  addWorkingHours,
  type BusinessCalendar,
  endOfLocalDay,
  isLate,
  isWorkingDay,
  localDateOf,
  nthWorkingDayAfter,
  reportDue,
  validateCalendar,
  workingDaysLate,
  workingHoursBetween,
  workingMillisBetween,
} from '../../src/common/working-time';

// Every instant below is written in UTC, as a caller would pass it, with the local time in a
// comment. Europe/Berlin is UTC+1 (CET) in winter and UTC+2 (CEST) from 2026-03-29 01:00Z to
// 2026-10-25 01:00Z. America/New_York is UTC-5 (EST) in winter and UTC-4 (EDT) from
// 2026-03-08 07:00Z to 2026-11-01 06:00Z. Weekdays used: 2026-01-16 Fri, 2026-05-01 Fri,
// 2026-12-25 Fri, 2026-12-31 Thu, 2027-01-01 Fri, 2026-07-31 Fri, 2026-10-31 Sat.

const HOUR = 3_600_000;

/** Mon–Fri 09:00–17:00 in Berlin, with Labour Day, Christmas and New Year as holidays. */
const BERLIN: BusinessCalendar = {
  timeZone: 'Europe/Berlin',
  workingDays: [1, 2, 3, 4, 5],
  dayStart: '09:00',
  dayEnd: '17:00',
  holidays: ['2026-05-01', '2026-12-25', '2026-12-26', '2027-01-01'],
};

/** Mon–Fri 09:00–17:00 in New York, with Thanksgiving (Thursday 2026-11-26) as a holiday. */
const NEW_YORK: BusinessCalendar = {
  timeZone: 'America/New_York',
  workingDays: [1, 2, 3, 4, 5],
  dayStart: '09:00',
  dayEnd: '17:00',
  holidays: ['2026-11-26'],
};

/** All of every Sunday, local time: isolates one local day inside a longer span. */
/** Every hour of every day in `timeZone`: the zone's local days are its working days. */
const aroundTheClockIn = (timeZone: string): BusinessCalendar => ({ timeZone, workingDays: [1, 2, 3, 4, 5, 6, 7], dayStart: '00:00', dayEnd: '24:00', holidays: [] });
const BERLIN_SUNDAYS: BusinessCalendar = { ...aroundTheClockIn('Europe/Berlin'), workingDays: [7] };
const NEW_YORK_SUNDAYS: BusinessCalendar = { ...aroundTheClockIn('America/New_York'), workingDays: [7] };

const at = (iso: string): Date => new Date(iso);
const hours = (cal: BusinessCalendar, from: string, to: string): number => workingHoursBetween(cal, at(from), at(to));

describe('workingHoursBetween', () => {
  it('counts 2 h from Friday 16:00 to Monday 10:00 across a weekend', () => {
    // Fri 2026-01-16 16:00 CET → Mon 2026-01-19 10:00 CET: Fri 16–17 = 1 h, Sat/Sun 0, Mon 9–10 = 1 h.
    expect(hours(BERLIN, '2026-01-16T15:00:00Z', '2026-01-19T09:00:00Z')).toBe(2);
  });

  it('clips to the working hours of a single day', () => {
    // Mon 10:30–12:00 CET = 1.5 h; Mon 07:00–20:00 CET only counts 09:00–17:00 = 8 h.
    expect(hours(BERLIN, '2026-01-19T09:30:00Z', '2026-01-19T11:00:00Z')).toBe(1.5);
    expect(hours(BERLIN, '2026-01-19T06:00:00Z', '2026-01-19T19:00:00Z')).toBe(8);
    // Mon 2026-01-19 00:00Z → Mon 2026-01-26 00:00Z (01:00 CET, before work): 5 days × 8 h.
    expect(hours(BERLIN, '2026-01-19T00:00:00Z', '2026-01-26T00:00:00Z')).toBe(40);
  });

  it('is exact to the millisecond', () => {
    // Fri 16:59:59.999 CET → Mon 09:00:00.001 CET: 1 ms on Friday, 1 ms on Monday.
    expect(workingMillisBetween(BERLIN, at('2026-01-16T15:59:59.999Z'), at('2026-01-19T08:00:00.001Z'))).toBe(2);
  });

  it('skips holidays', () => {
    // Thu 2026-04-30 15:00 CEST → Mon 2026-05-04 11:00 CEST: Thu 15–17 = 2 h, Fri 1 May holiday,
    // weekend, Mon 9–11 = 2 h: 4 h. Without the holiday Friday adds its 8 h: 12 h.
    expect(hours(BERLIN, '2026-04-30T13:00:00Z', '2026-05-04T09:00:00Z')).toBe(4);
    expect(hours({ ...BERLIN, holidays: [] }, '2026-04-30T13:00:00Z', '2026-05-04T09:00:00Z')).toBe(12);
    // Wed 2026-12-23 12:00 CET → Mon 2026-12-28 12:00 CET: Wed 12–17 = 5 h, Thu 24th = 8 h,
    // Fri 25th and Sat 26th holidays, Sun, Mon 9–12 = 3 h: 16 h.
    expect(hours(BERLIN, '2026-12-23T11:00:00Z', '2026-12-28T11:00:00Z')).toBe(16);
  });

  it('is 0, never negative, when end is not after start', () => {
    expect(hours(BERLIN, '2026-01-19T12:00:00Z', '2026-01-19T10:00:00Z')).toBe(0);
    expect(hours(BERLIN, '2026-01-19T10:00:00Z', '2026-01-19T10:00:00Z')).toBe(0);
  });

  it('counts elapsed time around the clock', () => {
    // AROUND_THE_CLOCK is UTC: Berlin's short Sunday (2026-03-28 23:00Z → 2026-03-29 22:00Z) is
    // 23 real hours, and 36 h 15 min across a weekend are 36.25 h.
    expect(hours(AROUND_THE_CLOCK, '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z')).toBe(23);
    expect(hours(AROUND_THE_CLOCK, '2026-01-17T06:00:00Z', '2026-01-18T18:15:00Z')).toBe(36.25);
  });

  describe('daylight-saving changes', () => {
    it('makes a local day 23 h when the clocks go forward and 25 h when they go back', () => {
      // Only Sundays count; each span holds exactly one whole local Sunday (the Sunday before each
      // span ended before it started: e.g. Berlin's 2026-03-22 ended at 2026-03-22 23:00Z).
      // Berlin 2026-03-29: 00:00 CET (03-28 23:00Z) → 24:00 CEST (03-29 22:00Z) = 23 h.
      expect(hours(BERLIN_SUNDAYS, '2026-03-23T00:00:00Z', '2026-04-01T00:00:00Z')).toBe(23);
      // Berlin 2026-10-25: 00:00 CEST (10-24 22:00Z) → 24:00 CET (10-25 23:00Z) = 25 h.
      expect(hours(BERLIN_SUNDAYS, '2026-10-19T00:00:00Z', '2026-10-28T00:00:00Z')).toBe(25);
      // New York 2026-03-08: 00:00 EST (05:00Z) → 24:00 EDT (03-09 04:00Z) = 23 h.
      expect(hours(NEW_YORK_SUNDAYS, '2026-03-02T12:00:00Z', '2026-03-11T12:00:00Z')).toBe(23);
      // New York 2026-11-01: 00:00 EDT (04:00Z) → 24:00 EST (11-02 05:00Z) = 25 h.
      expect(hours(NEW_YORK_SUNDAYS, '2026-10-26T12:00:00Z', '2026-11-04T12:00:00Z')).toBe(25);
    });

    it('puts local days at the right instants', () => {
      expect(endOfLocalDay(BERLIN, '2026-03-28').toISOString()).toBe('2026-03-28T23:00:00.000Z');
      expect(endOfLocalDay(BERLIN, '2026-03-29').toISOString()).toBe('2026-03-29T22:00:00.000Z');
      expect(endOfLocalDay(BERLIN, '2026-10-24').toISOString()).toBe('2026-10-24T22:00:00.000Z');
      expect(endOfLocalDay(BERLIN, '2026-10-25').toISOString()).toBe('2026-10-25T23:00:00.000Z');
      expect(endOfLocalDay(NEW_YORK, '2026-03-07').toISOString()).toBe('2026-03-08T05:00:00.000Z');
      expect(endOfLocalDay(NEW_YORK, '2026-03-08').toISOString()).toBe('2026-03-09T04:00:00.000Z');
      expect(endOfLocalDay(NEW_YORK, '2026-10-31').toISOString()).toBe('2026-11-01T04:00:00.000Z');
      expect(endOfLocalDay(NEW_YORK, '2026-11-01').toISOString()).toBe('2026-11-02T05:00:00.000Z');
    });

    it('keeps 09:00–17:00 at 8 h on the Monday after, at the new offset', () => {
      // Berlin Mon 2026-03-30 is CEST: 09:00–17:00 = 07:00Z–15:00Z.
      expect(hours(BERLIN, '2026-03-29T00:00:00Z', '2026-03-31T00:00:00Z')).toBe(8);
      expect(hours(BERLIN, '2026-03-30T07:00:00Z', '2026-03-30T08:00:00Z')).toBe(1); // 09:00–10:00 CEST
      expect(hours(BERLIN, '2026-03-30T06:00:00Z', '2026-03-30T07:00:00Z')).toBe(0); // 08:00–09:00 CEST
      // Berlin Mon 2026-10-26 is CET: 09:00–17:00 = 08:00Z–16:00Z.
      expect(hours(BERLIN, '2026-10-25T00:00:00Z', '2026-10-27T00:00:00Z')).toBe(8);
      expect(hours(BERLIN, '2026-10-26T07:00:00Z', '2026-10-26T08:00:00Z')).toBe(0); // 08:00–09:00 CET
      expect(hours(BERLIN, '2026-10-26T15:00:00Z', '2026-10-26T16:00:00Z')).toBe(1); // 16:00–17:00 CET
      // New York Mon 2026-03-09 is EDT: 09:00–17:00 = 13:00Z–21:00Z.
      expect(hours(NEW_YORK, '2026-03-08T12:00:00Z', '2026-03-10T12:00:00Z')).toBe(8);
      expect(hours(NEW_YORK, '2026-03-09T13:00:00Z', '2026-03-09T14:00:00Z')).toBe(1); // 09:00–10:00 EDT
      // New York Mon 2026-11-02 is EST: 09:00–17:00 = 14:00Z–22:00Z.
      expect(hours(NEW_YORK, '2026-11-01T12:00:00Z', '2026-11-03T12:00:00Z')).toBe(8);
      expect(hours(NEW_YORK, '2026-11-02T13:00:00Z', '2026-11-02T14:00:00Z')).toBe(0); // 08:00–09:00 EST
    });

    it('counts Friday 12:00 → Monday 12:00 local as 8 h across each change (Fri 12–17 = 5 h, Mon 9–12 = 3 h)', () => {
      // A fixed offset would be off by one hour on Monday and give 7 h or 9 h.
      // Berlin: Fri 03-27 12:00 CET = 11:00Z; Mon 03-30 12:00 CEST = 10:00Z.
      expect(hours(BERLIN, '2026-03-27T11:00:00Z', '2026-03-30T10:00:00Z')).toBe(8);
      // Berlin: Fri 10-23 12:00 CEST = 10:00Z; Mon 10-26 12:00 CET = 11:00Z.
      expect(hours(BERLIN, '2026-10-23T10:00:00Z', '2026-10-26T11:00:00Z')).toBe(8);
      // New York: Fri 03-06 12:00 EST = 17:00Z; Mon 03-09 12:00 EDT = 16:00Z.
      expect(hours(NEW_YORK, '2026-03-06T17:00:00Z', '2026-03-09T16:00:00Z')).toBe(8);
      // New York: Fri 10-30 12:00 EDT = 16:00Z; Mon 11-02 12:00 EST = 17:00Z.
      expect(hours(NEW_YORK, '2026-10-30T16:00:00Z', '2026-11-02T17:00:00Z')).toBe(8);
    });

    it('shortens or lengthens working hours that contain the change', () => {
      const nightShift: BusinessCalendar = { timeZone: 'Europe/Berlin', workingDays: [7], dayStart: '01:00', dayEnd: '04:00', holidays: [] };
      // 2026-03-29: 01:00 CET = 00:00Z → 04:00 CEST = 02:00Z: 2 h (02:00–03:00 never happens).
      expect(hours(nightShift, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).toBe(2);
      // 2026-10-25: 01:00 CEST = 10-24 23:00Z → 04:00 CET = 03:00Z: 4 h (02:00–03:00 happens twice).
      expect(hours(nightShift, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z')).toBe(4);
    });

    it('moves a missing bound forward by the gap and reads a repeated bound as its first occurrence', () => {
      const earlyShift: BusinessCalendar = { timeZone: 'Europe/Berlin', workingDays: [7], dayStart: '02:30', dayEnd: '05:00', holidays: [] };
      // 2026-03-29: 02:30 does not exist and means 03:30 CEST = 01:30Z; 05:00 CEST = 03:00Z: 1.5 h.
      expect(hours(earlyShift, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).toBe(1.5);
      // 2026-10-25: 02:30 happens twice; the first is 02:30 CEST = 00:30Z; 05:00 CET = 04:00Z: 3.5 h.
      expect(hours(earlyShift, '2026-10-24T00:00:00Z', '2026-10-26T00:00:00Z')).toBe(3.5);
    });

    it('handles half-hour changes (Lord Howe Island)', () => {
      // Australia/Lord_Howe goes from UTC+11 to UTC+10:30 on 2026-04-05 and back on 2026-10-04.
      const lordHoweSundays: BusinessCalendar = { ...aroundTheClockIn('Australia/Lord_Howe'), workingDays: [7] };
      // 2026-04-05: 00:00 +11 (04-04 13:00Z) → 24:00 +10:30 (04-05 13:30Z) = 24.5 h.
      expect(hours(lordHoweSundays, '2026-04-01T00:00:00Z', '2026-04-08T00:00:00Z')).toBe(24.5);
      // 2026-10-04: 00:00 +10:30 (10-03 13:30Z) → 24:00 +11 (10-04 13:00Z) = 23.5 h.
      expect(hours(lordHoweSundays, '2026-09-30T00:00:00Z', '2026-10-07T00:00:00Z')).toBe(23.5);
    });
  });
});

describe('working days', () => {
  it('knows working days, weekends and holidays', () => {
    expect(isWorkingDay(BERLIN, '2026-01-16')).toBe(true); // Friday
    expect(isWorkingDay(BERLIN, '2026-01-17')).toBe(false); // Saturday
    expect(isWorkingDay(BERLIN, '2026-05-01')).toBe(false); // Friday, holiday
    expect(isWorkingDay(BERLIN, '2026-12-24')).toBe(true); // Thursday, not listed
    expect(isWorkingDay(AROUND_THE_CLOCK, '2026-12-25')).toBe(true);
    expect(() => isWorkingDay(BERLIN, '2026-02-30')).toThrow(RangeError);
  });

  it('finds the Nth working day strictly after a date, across a weekend', () => {
    expect(nthWorkingDayAfter(BERLIN, '2026-01-16', 1)).toBe('2026-01-19'); // Fri → Mon
    expect(nthWorkingDayAfter(BERLIN, '2026-01-16', 5)).toBe('2026-01-23'); // Mon..Fri
    expect(nthWorkingDayAfter(BERLIN, '2026-01-17', 1)).toBe('2026-01-19'); // from a Saturday
    expect(nthWorkingDayAfter(AROUND_THE_CLOCK, '2026-12-31', 1)).toBe('2027-01-01');
  });

  it('skips holidays', () => {
    // Wed 12-23 → Thu 24th (1), Fri 25th holiday, Sat 26th, Sun 27th, Mon 28th (2).
    expect(nthWorkingDayAfter(BERLIN, '2026-12-23', 2)).toBe('2026-12-28');
    // Thu 12-31 → Fri 2027-01-01 holiday, weekend, Mon 01-04 (1).
    expect(nthWorkingDayAfter(BERLIN, '2026-12-31', 1)).toBe('2027-01-04');
    // Thu 04-30 → Fri 05-01 holiday, weekend, Mon 05-04 (1).
    expect(nthWorkingDayAfter(BERLIN, '2026-04-30', 1)).toBe('2026-05-04');
  });

  it('returns the date itself for n = 0, working day or not', () => {
    expect(nthWorkingDayAfter(BERLIN, '2026-01-17', 0)).toBe('2026-01-17');
    expect(nthWorkingDayAfter(BERLIN, '2026-12-25', 0)).toBe('2026-12-25');
  });

  it('refuses negative or fractional counts and malformed dates', () => {
    expect(() => nthWorkingDayAfter(BERLIN, '2026-01-16', -1)).toThrow(RangeError);
    expect(() => nthWorkingDayAfter(BERLIN, '2026-01-16', 1.5)).toThrow(RangeError);
    expect(() => nthWorkingDayAfter(BERLIN, '16.01.2026', 1)).toThrow('date: expected a local date as "YYYY-MM-DD", received "16.01.2026"');
  });

  it('reads local dates in the calendar zone', () => {
    expect(localDateOf(BERLIN, at('2026-01-16T23:30:00Z'))).toBe('2026-01-17'); // 00:30 CET
    expect(localDateOf(NEW_YORK, at('2026-01-17T03:00:00Z'))).toBe('2026-01-16'); // 22:00 EST
    expect(localDateOf({ timeZone: 'Europe/Berlin' }, at('2026-03-29T21:59:59.999Z'))).toBe('2026-03-29');
    expect(localDateOf({ timeZone: 'Europe/Berlin' }, at('2026-03-29T22:00:00Z'))).toBe('2026-03-30');
  });

  it('notices a calendar object changed in place', () => {
    const cal: BusinessCalendar = { ...BERLIN, holidays: [...BERLIN.holidays] };
    expect(isWorkingDay(cal, '2026-06-01')).toBe(true);
    cal.holidays.push('2026-06-01');
    expect(isWorkingDay(cal, '2026-06-01')).toBe(false);
    cal.workingDays = [1, 2, 3, 4, 5, 6];
    expect(isWorkingDay(cal, '2026-06-06')).toBe(true);
  });
});

describe('reportDue', () => {
  it('is due at the end of the Nth working day after the month, past a holiday and a weekend', () => {
    // December 2026 ends on Thu 12-31. Fri 2027-01-01 is a holiday, then Sat/Sun; working days
    // after the month: Mon 01-04 (1), Tue 05 (2), Wed 06 (3), Thu 07 (4), Fri 08 (5).
    // The day ends at Sat 2027-01-09 00:00 CET = 2027-01-08 23:00Z.
    const due = reportDue(BERLIN, '2026-12', 5);
    expect(due.dueDate).toBe('2027-01-08');
    expect(due.dueAt.toISOString()).toBe('2027-01-08T23:00:00.000Z');
  });

  it('skips the weekend after a month that ends on a Friday', () => {
    // July 2026 ends on Fri 07-31: Mon 08-03 (1), Tue 04 (2), Wed 05 (3); ends 08-06 00:00 CEST.
    expect(reportDue(BERLIN, '2026-07', 3)).toEqual({ dueDate: '2026-08-05', dueAt: at('2026-08-05T22:00:00.000Z') });
    // March 2026 ends on Tue 03-31 (CEST since the 29th): Wed 04-01 (1), ends 04-02 00:00 CEST.
    expect(reportDue(BERLIN, '2026-03', 1)).toEqual({ dueDate: '2026-04-01', dueAt: at('2026-04-01T22:00:00.000Z') });
  });

  it('is due on the last day of the month with 0 working days, leap years included', () => {
    expect(reportDue(BERLIN, '2026-02', 0)).toEqual({ dueDate: '2026-02-28', dueAt: at('2026-02-28T23:00:00.000Z') });
    expect(reportDue(BERLIN, '2028-02', 0)).toEqual({ dueDate: '2028-02-29', dueAt: at('2028-02-29T23:00:00.000Z') });
  });

  it('works in New York across the autumn change and around the clock', () => {
    // October 2026 ends on Sat 10-31: Sun 11-01, Mon 11-02 (1); ends 11-03 00:00 EST = 05:00Z.
    expect(reportDue(NEW_YORK, '2026-10', 1)).toEqual({ dueDate: '2026-11-02', dueAt: at('2026-11-03T05:00:00.000Z') });
    // November 2026 ends on Mon 11-30: Tue 12-01 (1), Wed 12-02 (2); ends 12-03 00:00 EST.
    expect(reportDue(NEW_YORK, '2026-11', 2)).toEqual({ dueDate: '2026-12-02', dueAt: at('2026-12-03T05:00:00.000Z') });
    // Around the clock every day counts: Jan 1..5, due at the UTC midnight ending the 5th.
    expect(reportDue(AROUND_THE_CLOCK, '2026-12', 5)).toEqual({ dueDate: '2027-01-05', dueAt: at('2027-01-06T00:00:00.000Z') });
  });

  it('refuses malformed months and counts', () => {
    expect(() => reportDue(BERLIN, '2026-13', 5)).toThrow(RangeError);
    expect(() => reportDue(BERLIN, '2026-12', -1)).toThrow(RangeError);
  });
});

describe('lateness', () => {
  // Due Fri 2027-01-08 in Berlin: the due date ends at 2027-01-08 23:00Z (Sat 00:00 CET).
  const dueDate = '2027-01-08';
  const dueAt = at('2027-01-08T23:00:00.000Z');

  it('is on time until the end of the due date, 23:59 local included', () => {
    expect(workingDaysLate(BERLIN, dueDate, at('2027-01-08T22:59:00Z'))).toBe(0); // Fri 23:59 CET
    expect(isLate(dueAt, at('2027-01-08T22:59:00Z'))).toBe(false);
    expect(workingDaysLate(BERLIN, dueDate, dueAt)).toBe(0); // the very instant of the deadline
    expect(isLate(dueAt, dueAt)).toBe(false);
    expect(workingDaysLate(BERLIN, dueDate, at('2027-01-05T10:00:00Z'))).toBe(0); // days early
  });

  it('is at least 1 working day late once the due date is over, even on a weekend', () => {
    expect(workingDaysLate(BERLIN, dueDate, at('2027-01-08T23:00:00.001Z'))).toBe(1); // Sat 00:00:00.001
    expect(isLate(dueAt, at('2027-01-08T23:00:00.001Z'))).toBe(true);
    expect(workingDaysLate(BERLIN, dueDate, at('2027-01-10T12:00:00Z'))).toBe(1); // Sunday
  });

  it('counts the working days after the due date up to the local date of the submission', () => {
    expect(workingDaysLate(BERLIN, dueDate, at('2027-01-11T07:59:00Z'))).toBe(1); // Mon 08:59 CET
    expect(workingDaysLate(BERLIN, dueDate, at('2027-01-12T10:00:00Z'))).toBe(2); // Tue
    // Local dates, not UTC ones: 2027-01-10 23:30Z is already Mon 00:30 CET (1 day), and
    // 2027-01-11 23:30Z is Tue 00:30 CET (2 days).
    expect(workingDaysLate(BERLIN, dueDate, at('2027-01-10T23:30:00Z'))).toBe(1);
    expect(workingDaysLate(BERLIN, dueDate, at('2027-01-11T23:30:00Z'))).toBe(2);
  });

  it('does not count weekends and holidays', () => {
    // Due Wed 2026-12-23: Thu 24th counts 1; Fri 25th and Sat 26th are holidays; Mon 28th is 2.
    expect(workingDaysLate(BERLIN, '2026-12-23', at('2026-12-24T09:00:00Z'))).toBe(1);
    expect(workingDaysLate(BERLIN, '2026-12-23', at('2026-12-26T12:00:00Z'))).toBe(1);
    expect(workingDaysLate(BERLIN, '2026-12-23', at('2026-12-28T09:00:00Z'))).toBe(2);
    // Due Thu 2026-12-31: submitted on the New Year holiday → 0 working days, but late: 1.
    expect(workingDaysLate(BERLIN, '2026-12-31', at('2027-01-01T11:00:00Z'))).toBe(1);
    expect(workingDaysLate(BERLIN, '2026-12-31', at('2027-01-04T07:00:00Z'))).toBe(1); // Mon 08:00 CET
    expect(workingDaysLate(BERLIN, '2026-12-31', at('2027-01-05T07:00:00Z'))).toBe(2); // Tue 08:00 CET
  });

  it('works in New York, Thanksgiving included', () => {
    // Due Mon 2026-11-02: the day ends at 11-03 05:00Z (00:00 EST).
    expect(workingDaysLate(NEW_YORK, '2026-11-02', at('2026-11-03T04:59:00Z'))).toBe(0); // 23:59 EST
    expect(workingDaysLate(NEW_YORK, '2026-11-02', at('2026-11-03T05:00:01Z'))).toBe(1);
    // Due Wed 11-25: Thu 26th is Thanksgiving, Fri 27th counts 1, Mon 30th 2.
    expect(workingDaysLate(NEW_YORK, '2026-11-25', at('2026-11-27T15:00:00Z'))).toBe(1);
    expect(workingDaysLate(NEW_YORK, '2026-11-25', at('2026-11-30T15:00:00Z'))).toBe(2);
  });

  it('agrees with reportDue', () => {
    const { dueDate: date, dueAt: end } = reportDue(BERLIN, '2026-12', 5);
    expect(workingDaysLate(BERLIN, date, end)).toBe(0);
    expect(workingDaysLate(BERLIN, date, new Date(end.getTime() + 1))).toBe(1);
  });
});

describe('addWorkingHours', () => {
  const deadline = (cal: BusinessCalendar, from: string, h: number): string => addWorkingHours(cal, at(from), h).toISOString();

  it('waits over weekends and outside working hours', () => {
    // Fri 16:00 CET + 2 h: Fri 16–17, Mon 9–10 → Mon 10:00 CET.
    expect(deadline(BERLIN, '2026-01-16T15:00:00Z', 2)).toBe('2026-01-19T09:00:00.000Z');
    // Sat 12:00 CET + 1 h → Mon 10:00 CET.
    expect(deadline(BERLIN, '2026-01-17T11:00:00Z', 1)).toBe('2026-01-19T09:00:00.000Z');
    // Mon 16:00 CET + 1.5 h: Mon 16–17, Tue 9–9:30 → Tue 09:30 CET.
    expect(deadline(BERLIN, '2026-01-19T15:00:00Z', 1.5)).toBe('2026-01-20T08:30:00.000Z');
  });

  it('ends at the close of the window a deadline uses up', () => {
    // Mon 09:00 CET + 8 h → Mon 17:00 CET (not Tue 09:00); + 40 h → Fri 17:00 CET.
    expect(deadline(BERLIN, '2026-01-19T08:00:00Z', 8)).toBe('2026-01-19T16:00:00.000Z');
    expect(deadline(BERLIN, '2026-01-19T08:00:00Z', 40)).toBe('2026-01-23T16:00:00.000Z');
  });

  it('crosses clock changes and holidays', () => {
    // Fri 03-27 12:00 CET + 8 h: Fri 12–17 (5 h), Mon 9–12 CEST (3 h) → Mon 10:00Z.
    expect(deadline(BERLIN, '2026-03-27T11:00:00Z', 8)).toBe('2026-03-30T10:00:00.000Z');
    // Fri 10-23 12:00 CEST + 8 h → Mon 10-26 12:00 CET = 11:00Z.
    expect(deadline(BERLIN, '2026-10-23T10:00:00Z', 8)).toBe('2026-10-26T11:00:00.000Z');
    // Thu 12-24 16:00 CET + 3 h: Thu 16–17 (1 h), 25th/26th holidays, Sun, Mon 9–11 → 10:00Z.
    expect(deadline(BERLIN, '2026-12-24T15:00:00Z', 3)).toBe('2026-12-28T10:00:00.000Z');
  });

  it('adds elapsed time around the clock', () => {
    expect(deadline(AROUND_THE_CLOCK, '2026-03-28T12:00:00Z', 36)).toBe('2026-03-30T00:00:00.000Z');
    // Berlin's 23-hour Sunday: 24 h from its start (03-28 23:00Z) end at Mon 01:00 CEST.
    expect(deadline(aroundTheClockIn('Europe/Berlin'), '2026-03-28T23:00:00Z', 24)).toBe('2026-03-29T23:00:00.000Z');
  });

  it('returns the start for 0 h and rounds up to whole milliseconds', () => {
    expect(deadline(BERLIN, '2026-01-17T11:00:00Z', 0)).toBe('2026-01-17T11:00:00.000Z'); // even on a Saturday
    expect(deadline(BERLIN, '2026-01-19T08:00:00Z', 1e-7)).toBe('2026-01-19T08:00:00.001Z'); // 0.36 ms → 1 ms
  });

  it('refuses negative and non-finite hours', () => {
    expect(() => addWorkingHours(BERLIN, at('2026-01-19T08:00:00Z'), -1)).toThrow(RangeError);
    expect(() => addWorkingHours(BERLIN, at('2026-01-19T08:00:00Z'), Number.NaN)).toThrow(RangeError);
    expect(() => addWorkingHours(BERLIN, at('2026-01-19T08:00:00Z'), Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => addWorkingHours(BERLIN, new Date(Number.NaN), 1)).toThrow('start: expected a valid Date, received an invalid Date');
  });

  it('round-trips exactly with workingHoursBetween', () => {
    for (const [from, h] of [
      ['2026-01-16T15:00:00Z', 2],
      ['2026-03-27T11:00:00Z', 8],
      ['2026-12-23T11:00:00Z', 16],
      ['2026-01-19T15:00:00Z', 0.1],
    ] as const) {
      expect(workingHoursBetween(BERLIN, at(from), addWorkingHours(BERLIN, at(from), h))).toBe(h);
    }
  });
});

describe('properties', () => {
  // Calendars whose windows do and do not contain clock changes, in zones with whole-hour,
  // half-hour and 45-minute offsets.
  const calendars: BusinessCalendar[] = [
    BERLIN,
    NEW_YORK,
    AROUND_THE_CLOCK,
    aroundTheClockIn('Europe/Berlin'),
    { timeZone: 'Europe/Berlin', workingDays: [6, 7], dayStart: '01:00', dayEnd: '04:00', holidays: [] },
    { timeZone: 'Europe/Berlin', workingDays: [1, 2, 3, 4, 5, 6, 7], dayStart: '02:30', dayEnd: '05:00', holidays: [] },
    { timeZone: 'America/New_York', workingDays: [7], dayStart: '00:00', dayEnd: '01:30', holidays: [] },
    { timeZone: 'Australia/Lord_Howe', workingDays: [1, 2, 3, 4, 5, 6], dayStart: '00:00', dayEnd: '24:00', holidays: ['2026-04-06'] },
    { timeZone: 'Asia/Kathmandu', workingDays: [7, 1, 2, 3, 4, 5], dayStart: '08:45', dayEnd: '17:15', holidays: [] },
  ];
  const calendar = fc.constantFrom(...calendars);
  const instant = fc.integer({ min: Date.parse('2025-12-01T00:00:00Z'), max: Date.parse('2028-01-31T00:00:00Z') });

  it('addWorkingHours inverts workingHoursBetween and returns the earliest such instant', () => {
    fc.assert(
      fc.property(calendar, instant, fc.integer({ min: 0, max: 300 * HOUR }), (cal, s, ms) => {
        const start = new Date(s);
        const h = ms / HOUR; // whole milliseconds of working time, as a Date can hold
        const end = addWorkingHours(cal, start, h);
        expect(Math.abs(workingHoursBetween(cal, start, end) - h)).toBeLessThanOrEqual(1e-9);
        expect(workingMillisBetween(cal, start, end)).toBe(ms);
        if (ms > 0) expect(workingMillisBetween(cal, start, new Date(end.getTime() - 1))).toBe(ms - 1);
      }),
      { numRuns: 500 },
    );
  });

  it('is additive: (a, c) = (a, b) + (b, c) for a ≤ b ≤ c', () => {
    fc.assert(
      fc.property(calendar, instant, instant, instant, (cal, x, y, z) => {
        const [a, b, c] = [x, y, z].sort((p, q) => p - q).map((t) => new Date(t));
        expect(workingMillisBetween(cal, a, c)).toBe(workingMillisBetween(cal, a, b) + workingMillisBetween(cal, b, c));
        const hoursSum = workingHoursBetween(cal, a, b) + workingHoursBetween(cal, b, c);
        expect(Math.abs(workingHoursBetween(cal, a, c) - hoursSum)).toBeLessThanOrEqual(1e-9);
      }),
      { numRuns: 300 },
    );
  });

  it('never exceeds elapsed time, and equals it around the clock', () => {
    fc.assert(
      fc.property(calendar, instant, instant, (cal, x, y) => {
        const [a, b] = x <= y ? [x, y] : [y, x];
        const working = workingMillisBetween(cal, new Date(a), new Date(b));
        expect(working).toBeGreaterThanOrEqual(0);
        expect(working).toBeLessThanOrEqual(b - a);
        expect(workingMillisBetween(AROUND_THE_CLOCK, new Date(a), new Date(b))).toBe(b - a);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with a wall-clock reference near clock changes', () => {
    // Reference: a moment is working time when its wall clock (read with Intl, not luxon) shows a
    // working date and a time in [dayStart, dayEnd). These calendars' bounds and zone offsets are
    // multiples of 15 minutes and their bounds never fall inside a clock change, so working-ness is
    // constant on each 15-minute UTC slot, and the two definitions must agree exactly.
    const referenceCalendars = [calendars[0], calendars[1], calendars[3], calendars[7], calendars[8]];
    const changes = ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', '2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z', '2026-12-25T00:00:00Z'].map(
      Date.parse,
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...referenceCalendars),
        fc.constantFrom(...changes),
        fc.integer({ min: -3 * 24 * HOUR, max: 3 * 24 * HOUR }),
        fc.integer({ min: 0, max: 5 * 24 * HOUR }),
        (cal, change, shift, span) => {
          const s = change + shift;
          expect(workingMillisBetween(cal, new Date(s), new Date(s + span))).toBe(referenceMillis(cal, s, s + span));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('validateCalendar', () => {
  it('accepts good calendars, with "24:00" as the end of the day', () => {
    expect(validateCalendar(BERLIN)).toEqual([]);
    expect(validateCalendar(AROUND_THE_CLOCK)).toEqual([]);
    expect(validateCalendar(aroundTheClockIn('America/New_York'))).toEqual([]);
  });

  it('names every problem with its field', () => {
    expect(validateCalendar({ timeZone: 'Mars/Olympus_Mons', workingDays: [], dayStart: '9:00', dayEnd: '17:00', holidays: ['2026-02-30', '2026-12-24'] })).toEqual([
      'timeZone: "Mars/Olympus_Mons" is not an IANA time zone such as "Europe/Berlin"',
      'workingDays: at least one working day is needed',
      'dayStart: "9:00" is not a time as "HH:MM" from "00:00" to "23:59"',
      'holidays: "2026-02-30" is not a date as "YYYY-MM-DD"',
    ]);
    expect(validateCalendar({ ...BERLIN, workingDays: [0, 1, 8] })).toEqual([
      'workingDays: 0 is not an ISO weekday (1 = Monday … 7 = Sunday)',
      'workingDays: 8 is not an ISO weekday (1 = Monday … 7 = Sunday)',
    ]);
    expect(validateCalendar({ ...BERLIN, dayStart: '24:00', dayEnd: '24:30' })).toEqual([
      'dayStart: "24:00" is not a time as "HH:MM" from "00:00" to "23:59"',
      'dayEnd: "24:30" is not a time as "HH:MM" from "00:01" to "24:00"',
    ]);
  });

  it('wants the day to end after it starts', () => {
    expect(validateCalendar({ ...BERLIN, dayStart: '17:00', dayEnd: '09:00' })).toEqual(['dayEnd: "09:00" must be after dayStart "17:00"']);
    expect(validateCalendar({ ...BERLIN, dayEnd: '09:00' })).toEqual(['dayEnd: "09:00" must be after dayStart "09:00"']);
    expect(validateCalendar({ ...BERLIN, dayEnd: '00:00' })).toEqual(['dayEnd: "00:00" must be after dayStart "09:00"']);
  });

  it('copes with JSON of the wrong shape', () => {
    expect(validateCalendar(null as unknown as BusinessCalendar)).toEqual(['calendar: expected an object, received null']);
    const junk = { timeZone: 42, workingDays: 'weekdays', dayStart: null, holidays: {} } as unknown as BusinessCalendar;
    expect(validateCalendar(junk)).toEqual([
      'timeZone: 42 is not an IANA time zone such as "Europe/Berlin"',
      'workingDays: expected a list of ISO weekdays (1 = Monday … 7 = Sunday), received "weekdays"',
      'dayStart: null is not a time as "HH:MM" from "00:00" to "23:59"',
      'dayEnd: undefined is not a time as "HH:MM" from "00:01" to "24:00"',
      'holidays: expected a list of "YYYY-MM-DD" dates, received a value of type object',
    ]);
  });

  it('makes the other functions throw a RangeError that carries the problems', () => {
    const broken: BusinessCalendar = { ...BERLIN, timeZone: 'Nowhere/Special' };
    expect(() => workingHoursBetween(broken, at('2026-01-19T08:00:00Z'), at('2026-01-19T10:00:00Z'))).toThrow(RangeError);
    expect(() => reportDue(broken, '2026-12', 5)).toThrow('invalid business calendar: timeZone: "Nowhere/Special" is not an IANA time zone such as "Europe/Berlin"');
    expect(() => nthWorkingDayAfter({ ...BERLIN, workingDays: [] }, '2026-01-16', 1)).toThrow('invalid business calendar: workingDays: at least one working day is needed');
  });
});

// --- reference for the wall-clock property ----------------------------------------------------

const SLOT = 15 * 60_000;
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formats = new Map<string, Intl.DateTimeFormat>();

function wallClock(timeZone: string, t: number): { date: string; weekday: number; minute: number } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    formats.set(timeZone, format);
  }
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(new Date(t))) parts[part.type] = part.value;
  return { date: `${parts.year}-${parts.month}-${parts.day}`, weekday: WEEKDAYS[parts.weekday], minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

function referenceMillis(cal: BusinessCalendar, s: number, e: number): number {
  let total = 0;
  for (let slot = Math.floor(s / SLOT) * SLOT; slot < e; slot += SLOT) {
    const wall = wallClock(cal.timeZone, slot);
    const working = cal.workingDays.includes(wall.weekday) && !cal.holidays.includes(wall.date) && wall.minute >= minutes(cal.dayStart) && wall.minute < minutes(cal.dayEnd);
    if (working) total += Math.min(e, slot + SLOT) - Math.max(s, slot);
  }
  return total;
}

describe('month ends and acceptance windows (DESIGN §4 rule 0, §5)', () => {
  it("ends a month at midnight in the calendar's zone", () => {
    expect(monthEndsAt(BERLIN, '2026-11').toISOString()).toBe('2026-11-30T23:00:00.000Z'); // CET
    expect(monthEndsAt(BERLIN, '2026-03').toISOString()).toBe('2026-03-31T22:00:00.000Z'); // CEST began on the 29th
    expect(monthEndsAt(BERLIN, '2026-12').toISOString()).toBe('2026-12-31T23:00:00.000Z'); // across the year end
    expect(monthEndsAt(NEW_YORK, '2026-10').toISOString()).toBe('2026-11-01T04:00:00.000Z'); // EDT until 1 Nov 06:00Z
    expect(monthEndsAt({ timeZone: 'UTC' }, '2026-02').toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  it('gives the customer N working days after the day of the submission, to the end of the last one', () => {
    // Wed 18 Nov 2026 10:00 Berlin → Thu 19, Fri 20, Mon 23, Tue 24, Wed 25: end of Wed 25 (CET).
    expect(acceptanceDue(BERLIN, new Date('2026-11-18T09:00:00Z'), 5).toISOString()).toBe('2026-11-25T23:00:00.000Z');
    // Fri 24 Apr 2026 → Mon 27, Tue 28, Wed 29, Thu 30, (Fri 1 May a holiday) Mon 4 May: end of Mon 4 May (CEST).
    expect(acceptanceDue(BERLIN, new Date('2026-04-24T15:00:00Z'), 5).toISOString()).toBe('2026-05-04T22:00:00.000Z');
    // Submitted on a Saturday (31 Oct): the days count from Monday 2 November; 1 day → end of Mon 2 Nov.
    expect(acceptanceDue(BERLIN, new Date('2026-10-31T12:00:00Z'), 1).toISOString()).toBe('2026-11-02T23:00:00.000Z');
    // New York, Thanksgiving: Wed 25 Nov → (Thu 26 holiday) Fri 27, Mon 30: end of Mon 30 Nov (EST).
    expect(acceptanceDue(NEW_YORK, new Date('2026-11-25T15:00:00Z'), 2).toISOString()).toBe('2026-12-01T05:00:00.000Z');
    // Late on Wednesday evening in New York is already Thursday in UTC: the local day counts.
    expect(acceptanceDue(NEW_YORK, new Date('2026-11-26T03:00:00Z'), 2).toISOString()).toBe('2026-12-01T05:00:00.000Z');
  });
});
