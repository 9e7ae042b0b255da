import { assertText, MAX_SEARCH_LENGTH } from './bounds';

/**
 * Catalog codes (departments, services, metrics): upper case, so `mkt` and `MKT` cannot both
 * exist. Inputs are trimmed and upper-cased before this pattern is checked (see `normalizeCode`).
 */
export const CODE_PATTERN = /^\s*[A-Za-z][A-Za-z0-9_-]{1,39}\s*$/;
export const CODE_MESSAGE = 'code: expected 2 to 40 characters of letters, digits, _ or -, starting with a letter';

/** Trims and upper-cases a code. */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase();
}

/**
 * Text folded for search, the same way on every engine: compatibility-decomposed (NFKD), accents
 * and other combining marks dropped, lower-cased, `ß` as `ss`. "İzmir", "izmir" and "IZMIR" all
 * fold to "izmir", "Ärger" to "arger". Done here rather than in SQL because the engines disagree:
 * SQLite's LIKE folds ASCII only, and PostgreSQL's ILIKE folds by the database's locale.
 */
export function foldForSearch(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/ß/g, 'ss');
}

/** The stored search text of a catalog row (`search_text`): its code and name, folded. */
export function searchTextOf(row: { code: string; name: string }): string {
  return foldForSearch(`${row.code} ${row.name}`);
}

/**
 * A filter matching rows whose code or name contains `text`, ignoring case and accents alike on
 * both engines: the text is folded as the stored `searchText` column was ({@link foldForSearch}),
 * and compared with LIKE, which then has nothing left to fold. LIKE wildcards in the text are
 * dropped rather than escaped: SQLite has no default escape character, and a code or name search
 * for a bare `%` or `_` means nothing. Longer than MAX_SEARCH_LENGTH, or not text: BAD_USER_INPUT.
 */
export function codeOrNameContains(text: string): { searchText: { $like: string } } {
  assertText('filter.search', text, MAX_SEARCH_LENGTH);
  return { searchText: { $like: `%${foldForSearch(text.trim()).replace(/[\\%_]/g, '')}%` } };
}
