/** A minimal CSV reader for the exports (RFC 4180 quoting). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else if (c !== '\r') cell += c;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** The header of `/export/measurements.csv`, in its order, as clients see it (written out: a test of the contract). */
export const MEASUREMENT_CSV_HEADER = [
  'id',
  'month',
  'agreementKey',
  'tier',
  'provider',
  'customer',
  'service',
  'metric',
  'unit',
  'direction',
  'target',
  'warning',
  'weight',
  'value',
  'status',
  'attainment',
  'excused',
  'source',
  'reportRevision',
  'updatedAt',
  'disputed',
  'deleted',
];

/** A fact as its CSV line renders it under `header`: empty for null, every other value as text. */
export function csvLineOf(fact: object, header: readonly string[]): string[] {
  return header.map((h) => {
    const v = (fact as Record<string, unknown>)[h];
    return v === null || v === undefined ? '' : String(v);
  });
}
