/* The dashboard in a real browser (issue 17): Debian's Chromium driven by playwright-core against
 * a real server on a fresh database with the demo company. Charts are checked on the data they
 * were given (their `data-chart` JSON), not on pixels; a screenshot of each view is written to
 * test-artifacts/screenshots. Skipped, saying why, where /usr/bin/chromium is missing. */
import fs from 'node:fs';
import path from 'node:path';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../src/cli/build-web';
import type { DemoPrincipal } from '../../src/http/dashboard';
import { webDist } from '../../src/http/web-root';
import { Role, startServer, type TestServer } from '../support/server';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.resolve('test-artifacts/screenshots');
const hasChromium = fs.existsSync(CHROMIUM);
if (!hasChromium) console.warn(`browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does it)`);

/** Whether a file under web/ is newer than the built page (or there is none). */
function webBuildIsStale(): boolean {
  const built = path.join(webDist(), 'index.html');
  if (!fs.existsSync(built)) return true;
  const builtAt = fs.statSync(built).mtimeMs;
  const newest = (dir: string): number =>
    Math.max(...fs.readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs)));
  return newest(path.resolve('web')) > builtAt;
}

/** Months as "YYYY-MM" on the real clock (the browser has no X-Clock-Now). */
function month(offset = 0): string {
  const d = new Date();
  const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1));
  return m.toISOString().slice(0, 7);
}

describe.skipIf(!hasChromium)('the dashboard in Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  const principals: DemoPrincipal[] = [];
  /** The agreement-month the head submits in the report test (read by the monthly report's test after it). */
  let submitted: { key: string; month: string } | null = null;
  /** Messages the browser logged about the Content-Security-Policy: must stay empty. */
  const cspViolations: string[] = [];

  /** GraphQL with a token, straight to the API: what the page should show. */
  async function api<T>(token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(`${s.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data: T; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data;
  }

  async function newPage(context?: BrowserContext): Promise<Page> {
    const page = await (context ?? (await browser.newContext({ viewport: { width: 1280, height: 900 } }))).newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`));
    return page;
  }

  async function signInAs(page: Page, key: string, next = '/'): Promise<void> {
    await page.goto(`${s.url}${next}`);
    await page.click(`#demo-principals button[data-principal="${key}"]`);
  }

  /** axe-core in the page (evaluated over the DevTools protocol, so the page's CSP stays strict): serious or critical violations. */
  async function seriousViolations(page: Page): Promise<Array<{ id: string; impact: string; nodes: number }>> {
    await page.evaluate(axe.source);
    const results = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact ?? '', nodes: v.nodes.length }));
    });
    return results.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  }

  async function shot(page: Page, name: string): Promise<void> {
    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  }

  /**
   * Presses Tab from where the focus is until it comes round again,
   * marking each element it reaches; returns the visible, enabled controls it never reached
   * (links, buttons, fields), described by tag and id or text.
   */
  async function unreachableByTab(page: Page): Promise<string[]> {
    await page.evaluate(() => {
      for (const el of document.querySelectorAll('[data-kb-reached]')) el.removeAttribute('data-kb-reached');
      delete (window as unknown as { kbLast?: Element }).kbLast;
      (document.activeElement as HTMLElement | null)?.blur();
    });
    // Past the last control the focus leaves the document (body) and then wraps to the first:
    // go on until a control comes round again.
    let outside = 0;
    for (let i = 0; i < 300 && outside < 3; i++) {
      await page.keyboard.press('Tab');
      const where = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return 'outside';
        // A date or month field keeps the focus over its parts (month, year): one Tab each.
        const w = window as unknown as { kbLast?: Element };
        const same = w.kbLast === el;
        w.kbLast = el;
        if (same) return 'same';
        if (el.hasAttribute('data-kb-reached')) return 'again';
        el.setAttribute('data-kb-reached', '');
        return 'new';
      });
      if (where === 'again') break;
      if (where === 'outside') outside++;
    }
    return page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary')]
        .filter((el) => el.getClientRects().length > 0 && !(el as HTMLButtonElement).disabled && !el.hasAttribute('data-kb-reached'))
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} ${el.textContent?.trim().slice(0, 40) ?? ''}`),
    );
  }

  /** Presses Tab until `selector` has the focus (at most 100 times); fails if it never does. */
  async function tabTo(page: Page, selector: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return;
    }
    throw new Error(`Tab never reached ${selector}`);
  }

  beforeAll(async () => {
    // The current web/ sources: built again only when one is newer than dist/web (`npm test` has
    // just built it, and other test files may be reading it).
    if (webBuildIsStale()) await buildWeb();
    s = await startServer('sqlite', { seed: 'all', demoPrincipals: () => principals });
    for (const [key, role, department, name] of [
      ['ADMIN', Role.ADMIN, null, 'Ada Admin'],
      ['HEAD_SALES', Role.HEAD, 'SALES', 'Head of Sales'],
      ['HEAD_FIN', Role.HEAD, 'FIN', 'Head of Finance'],
    ] as const) {
      principals.push({ key, name, role, department, token: await s.tokenFor(role, department) });
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await s?.close();
    expect(cspViolations).toEqual([]);
  });

  it('serves the page with a strict CSP and cacheable hashed assets; the demo principals only when allowed', async () => {
    const index = await fetch(`${s.url}/agreements/FIN-SALES`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    const html = await index.text();
    const script = /src="(\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${s.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${s.url}/assets/app-NOPE.js`)).status).toBe(404);
    const demo = (await (await fetch(`${s.url}/dashboard/demo-principals`)).json()) as { principals: DemoPrincipal[] };
    expect(demo.principals.map((p) => p.key)).toEqual(['ADMIN', 'HEAD_SALES', 'HEAD_FIN']);
  });

  it('a head signs in with a demo principal and sees the organisation: the trend chart and heat map carry the API figures', async () => {
    const page = await newPage();
    await signInAs(page, 'HEAD_SALES');
    await page.waitForSelector('#org-trend[data-rendered]');
    expect(new URL(page.url()).pathname).toBe('/');
    // The token lives in this tab's session storage, never in the URL.
    const token = principals[1].token;
    expect(await page.evaluate(() => sessionStorage.getItem('tiered-sla.token'))).toBe(token);
    expect(page.url()).not.toContain(token);

    const from = month(-11);
    const to = month(0);
    const { organisationScorecard: org, departments } = await api<{
      organisationScorecard: { series: Array<{ month: string; score: number | null }> };
      departments: { totalCount: number };
    }>(token, 'query($from: Month!, $to: Month!) { organisationScorecard(from: $from, to: $to) { series { month score } } departments { totalCount } }', { from, to });
    const chart = JSON.parse((await page.getAttribute('#org-trend', 'data-chart')) as string) as { months: string[]; series: { score: Array<number | null> } };
    expect(chart.months).toHaveLength(12);
    expect(chart.months[0]).toBe(from);
    expect(chart.months[11]).toBe(to);
    const byMonth = new Map(org.series.map((m) => [m.month, m.score]));
    expect(chart.series.score).toEqual(chart.months.map((m) => byMonth.get(m) ?? null));
    // The demo has history: at least ten scored months in the chart.
    expect(chart.series.score.filter((v) => v !== null).length).toBeGreaterThanOrEqual(10);
    // The lists fill in after the chart, each in its own request.
    for (const id of ['departments', 'at-risk', 'overdue']) await page.waitForSelector(`#${id}[data-loaded]`);
    expect(await page.locator('#heat-map tbody tr').count()).toBe(departments.totalCount);
    expect(await page.locator('#heat-map tbody td').count()).toBe(departments.totalCount * 12);
    await shot(page, 'organisation');
    expect(await seriousViolations(page)).toEqual([]);

    // Time to first chart on a fresh load of the organisation page (measured, not asserted).
    await page.goto(`${s.url}/org`);
    await page.waitForSelector('#org-trend[data-rendered]');
    const ms = await page.evaluate(() => performance.getEntriesByName('first-chart')[0]?.startTime ?? -1);
    console.log(`dashboard: organisation page, first chart drawn ${Math.round(ms)} ms after navigation (demo data set)`);
    expect(ms).toBeGreaterThan(0);
    await page.context().close();
  });

  it('the agreement, department and handoff views render their data; bookmarkable URLs work on reload', async () => {
    const page = await newPage();
    await signInAs(page, 'HEAD_SALES', '/agreements/FIN-SALES');
    await page.waitForSelector('#status-strip');
    expect(new URL(page.url()).pathname).toBe('/agreements/FIN-SALES');
    await page.waitForSelector('#objective-STATEMENT_ACCURACY[data-rendered]');
    const chart = JSON.parse((await page.getAttribute('#objective-STATEMENT_ACCURACY', 'data-chart')) as string) as { months: string[]; series: Record<string, Array<number | null>> };
    const month8 = chart.months[8];
    const { agreement } = await api<{ agreement: { scorecard: { objectives: Array<{ value: number | null; target: number; metric: { code: string } }> } } }>(
      principals[1].token,
      'query($m: Month!) { agreement(key: "FIN-SALES") { scorecard(month: $m) { objectives { value target metric { code } } } } }',
      { m: month8 },
    );
    const accuracy = agreement.scorecard.objectives.find((o) => o.metric.code === 'STATEMENT_ACCURACY');
    expect(chart.series.value[8]).toBe(accuracy?.value ?? null);
    expect(chart.series.target[8]).toBe(accuracy?.target);
    expect(await page.locator('#status-strip li').count()).toBe(12);
    await shot(page, 'agreement');
    expect(await seriousViolations(page)).toEqual([]);

    await page.reload();
    await page.waitForSelector('#status-strip');

    await page.goto(`${s.url}/departments/SALES`);
    await page.waitForSelector('#department-trend[data-rendered]');
    expect(await page.locator('#actions').count()).toBe(1);
    await shot(page, 'department');
    expect(await seriousViolations(page)).toEqual([]);

    await page.goto(`${s.url}/handoffs`);
    await page.waitForSelector('#funnel');
    const volumes = await page.locator('#funnel li').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-volume'))));
    const { handoffChain } = await api<{ handoffChain: { stages: Array<{ volume: number }> } }>(
      principals[1].token,
      'query($s: Month!, $e: Month!) { handoffChain(from: "MKT", to: "CS", start: $s, end: $e) { stages { volume } } }',
      { s: month(-11), e: month(0) },
    );
    expect(volumes).toEqual(handoffChain.stages.map((x) => x.volume));
    expect(volumes.length).toBe(2);
    await shot(page, 'handoffs');
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  });

  it('a head submits an overdue report in the page: a bad value is refused beside its field, then the month is scored, and the organisation page follows live', async () => {
    const head = principals[2];
    const { overdueReports } = await api<{ overdueReports: Array<{ month: string; agreement: { key: string; provider: { code: string } } }> }>(
      head.token,
      'query { overdueReports(department: "FIN") { month agreement { key provider { code } } } }',
    );
    const overdue = overdueReports.find((o) => o.agreement.provider.code === 'FIN');
    expect(overdue).toBeDefined();
    const { key } = overdue!.agreement;
    const at = overdue!.month;
    submitted = { key, month: at };
    type Card = { agreement: { scorecard: { status: string; score: number | null; objectives: Array<{ status: string; value: number | null; metric: { code: string } }> } } };
    const card = () =>
      api<Card>(head.token, 'query($k: String!, $m: Month!) { agreement(key: $k) { scorecard(month: $m) { status score objectives { status value metric { code } } } } }', { k: key, m: at });
    const before = await card();
    expect(before.agreement.scorecard.status).toBe('NO_DATA');

    const page = await newPage();
    await signInAs(page, 'HEAD_FIN', `/agreements/${key}/report?month=${at}`);
    await page.waitForSelector('#report-form');
    const field = page.locator('#report-form input[type=number]').first();
    expect(await page.locator('#report-form input[type=number]').count()).toBe(1);
    // Out of bounds (a percentage above 100): the API's userError is shown beside that field.
    await field.fill('150');
    await page.fill('#narrative', 'Statements reconciled late; all corrected.');
    await page.click('#submit-report');
    await page.waitForSelector('#form-status:has-text("Not submitted")');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    const error = await page.locator('#err-values-0--value').textContent();
    expect(error).toMatch(/100/);
    await shot(page, 'report-form-error');
    expect(await seriousViolations(page)).toEqual([]);

    // A draft survives a reload.
    await field.fill('99.5');
    await page.click('#save-draft');
    await page.waitForSelector('#form-status:has-text("Draft saved")');
    await page.reload();
    await page.waitForSelector('#report-form');
    expect(await page.locator('#report-form input[type=number]').first().inputValue()).toBe('99.5');

    // An admin watches the organisation page meanwhile: the month is in its overdue list.
    const org = await newPage();
    await signInAs(org, 'ADMIN', '/org');
    await org.waitForSelector('#overdue[data-loaded]');
    const overdueLinks = () => org.locator('#overdue li a').evaluateAll((as) => as.map((x) => x.getAttribute('href')));
    expect(await overdueLinks()).toContain(`/agreements/${key}?month=${at}`);
    await org.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    await org.waitForTimeout(500); // the subscription connects

    await page.click('#submit-report');
    await page.waitForSelector('#form-status:has-text("Submitted as revision 1")');
    await shot(page, 'report-form');

    // The organisation page follows without a reload: the month leaves the overdue list (as the
    // API lists it now) and the score tile shows the API's score.
    await org.waitForSelector('#main[data-live-updates]', { timeout: 10_000 });
    await org.waitForFunction((href) => !document.querySelector(`#overdue a[href="${href}"]`) && document.querySelector('#overdue[data-loaded]'), `/agreements/${key}?month=${at}`, {
      timeout: 10_000,
    });
    const from = month(-11);
    const now = await api<{ organisationScorecard: { score: number | null }; overdueReports: Array<{ month: string; agreement: { key: string } }> }>(
      principals[0].token,
      'query($from: Month!, $to: Month!) { organisationScorecard(from: $from, to: $to) { score } overdueReports(from: $from) { month agreement { key } } }',
      { from, to: month(0) },
    );
    expect(now.overdueReports.some((o) => o.agreement.key === key && o.month === at)).toBe(false);
    expect(await overdueLinks()).toEqual(now.overdueReports.slice(0, 50).map((o) => `/agreements/${o.agreement.key}?month=${o.month}`));
    if (!now.overdueReports.length) expect(await org.textContent('#overdue')).toContain('No report is overdue.');
    const scoreAfter = (await org.locator('.tile-value').allTextContents())[0];
    expect(scoreAfter).toBe(now.organisationScorecard.score === null ? '–' : now.organisationScorecard.score.toLocaleString('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 }));
    expect(await org.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await org.context().close();

    const after = await card();
    // The reported objective is met now; the month as a whole is still breached by the report's lateness (automated).
    expect(after.agreement.scorecard.objectives.find((o) => o.metric.code === 'STATEMENT_ACCURACY')).toMatchObject({ status: 'MET', value: 99.5 });
    expect(after.agreement.scorecard.objectives.find((o) => o.metric.code === 'REPORT_DAYS_LATE')?.status).toBe('BREACHED');
    expect(after.agreement.scorecard.status).toBe('BREACHED');
    expect(before.agreement.scorecard.objectives.find((o) => o.metric.code === 'STATEMENT_ACCURACY')?.status).toBe('NO_DATA');
    expect(after.agreement.scorecard.score).not.toBe(before.agreement.scorecard.score);
    // The agreement page shows the month scored now.
    await page.goto(`${s.url}/agreements/${key}?month=${month(0)}`);
    await page.waitForSelector('#status-strip');
    expect(await page.getAttribute(`#status-strip li[data-month="${at}"]`, 'data-status')).toBe('BREACHED');

    // The provider watches its own department page (inbox live); the customer's head disputes the
    // revision on the agreement page; the dispute appears in the provider's inbox without a reload.
    await page.goto(`${s.url}/departments/FIN`);
    await page.waitForSelector('#inbox');
    const inboxBefore = await page.locator('#inbox li').count();
    await page.evaluate(() => document.getElementById('inbox')?.setAttribute('data-not-reloaded', 'yes'));
    await page.waitForTimeout(500); // the subscription connects
    const customer = await newPage();
    await signInAs(customer, 'HEAD_SALES', `/agreements/${key}?month=${month(0)}`);
    const decision = customer.locator(`[data-decision="reason-${at}"]`);
    await decision.waitFor();
    // A dispute needs a reason: the userError shows beside it.
    await decision.locator('button.reject').click();
    await customer.waitForSelector(`#err-reason-${at}:not(:empty)`);
    await shot(customer, 'agreement-dispute-error');
    await decision.locator('input').fill('The August statements do not match our commission runs.');
    await decision.locator('button.reject').click();
    await customer.waitForSelector(`#reports tr:has([data-decision="reason-${at}"])`, { state: 'detached' });
    expect(await customer.locator(`#reports a[href$="month=${at}"]`).locator('xpath=../..').locator('.badge').textContent()).toBe('disputed');
    await page.waitForSelector('#inbox li:has-text("report.disputed")', { timeout: 10_000 });
    expect(await page.getAttribute('#inbox', 'data-not-reloaded')).toBe('yes');
    expect(await page.locator('#inbox li').count()).toBe(inboxBefore + 1);
    await shot(page, 'department-live-inbox');
    await customer.context().close();
    await page.context().close();
  });

  it('the monthly report of an agreement prints cleanly; the provider requests an exclusion there, a missing explanation refused beside it', async () => {
    expect(submitted).not.toBeNull();
    const { key, month: at } = submitted!;
    const head = principals[2];
    const page = await newPage();
    await signInAs(page, 'HEAD_FIN', `/agreements/${key}?month=${month(0)}`);
    await page.click(`#status-strip li[data-month="${at}"] a`);
    await page.waitForSelector('#month-objectives');
    expect(new URL(page.url()).pathname).toBe(`/agreements/${key}/month`);
    const { agreement } = await api<{ agreement: { scorecard: { creditAmount: number; objectives: Array<{ status: string; metric: { code: string } }> } } }>(
      head.token,
      'query($k: String!, $m: Month!) { agreement(key: $k) { scorecard(month: $m) { creditAmount objectives { status metric { code } } } } }',
      { k: key, m: at },
    );
    const rows = await page.locator('#month-objectives tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-metric'), tr.querySelector('.badge')?.textContent]));
    expect(rows).toEqual(agreement.scorecard.objectives.map((o) => [o.metric.code, o.status.replace(/_/g, ' ').toLowerCase()]));
    expect(await page.textContent('#month-narrative')).toBe('Statements reconciled late; all corrected.');
    expect(await page.textContent('#month-credit')).toContain(agreement.scorecard.creditAmount.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
    expect(await seriousViolations(page)).toEqual([]);

    // Printed: no navigation, no buttons, no form.
    await page.emulateMedia({ media: 'print' });
    expect(await page.isVisible('header.top')).toBe(false);
    expect(await page.isVisible('#exclusion-form')).toBe(false);
    await shot(page, 'agreement-month-print');
    await page.emulateMedia({ media: 'screen' });

    await page.selectOption('#exclusion-objective', { label: 'Report days late' });
    await page.selectOption('#exclusion-reason', 'DATA_ERROR');
    await page.click('#exclusion-form button[type=submit]');
    await page.waitForSelector('#err-explanation:not(:empty)');
    await page.fill('#exclusion-explanation', 'The report was sent on time by e-mail; the system was down that week.');
    await page.click('#exclusion-form button[type=submit]');
    await page.waitForSelector('#month-exclusions li:has(.badge:text-is("requested"))');
    expect(await page.textContent('#month-exclusions li')).toContain('REPORT_DAYS_LATE (data error)');
    await shot(page, 'agreement-month');
    await page.context().close();
  });

  it('the friction report form: friction items are added, saved with the draft and kept over a reload, and removed', async () => {
    // Sales → Customer Service carries the monthly customer friction report. Every month of the demo
    // is reported; the running month can be reported once it has ended, so this page's API requests
    // say it is noon UTC on the first day of next month (X-Clock-Now; the test server allows it).
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const now = `${month(1)}-01T12:00:00.000Z`;
    await context.route('**/graphql', (route) => route.continue({ headers: { ...route.request().headers(), 'x-clock-now': now } }));
    const page = await newPage(context);
    await signInAs(page, 'HEAD_SALES', `/agreements/SALES-CS/report?month=${month(0)}`);
    await page.waitForSelector('#friction');
    const before = await page.locator('#friction-items fieldset').count();
    await page.click('#add-friction');
    const i = before;
    await page.selectOption(`#friction-${i}-category`, 'HANDOVER');
    await page.selectOption(`#friction-${i}-severity`, 'HIGH');
    await page.fill(`#friction-${i}-customers`, '12');
    await page.fill(`#friction-${i}-description`, 'Contracts handed over without the signed order form.');
    await page.click('#save-draft');
    await page.waitForSelector('#form-status:text-matches("saved|Not saved|Failed")');
    expect((await page.locator('.field-error').allTextContents()).filter(Boolean)).toEqual([]);
    expect(await page.textContent('#form-status')).toBe('Draft saved.');
    await shot(page, 'report-form-friction');
    expect(await seriousViolations(page)).toEqual([]);
    await page.reload();
    await page.waitForSelector('#friction');
    expect(await page.locator('#friction-items fieldset').count()).toBe(before + 1);
    expect(await page.inputValue(`#friction-${i}-category`)).toBe('HANDOVER');
    expect(await page.inputValue(`#friction-${i}-severity`)).toBe('HIGH');
    expect(await page.inputValue(`#friction-${i}-customers`)).toBe('12');
    expect(await page.inputValue(`#friction-${i}-description`)).toBe('Contracts handed over without the signed order form.');
    const { agreement } = await api<{ agreement: { report: { draft: { frictionItems: Array<{ category: string; severity: string; customersAffected: number }> } } } }>(
      principals[1].token,
      'query($m: Month!) { agreement(key: "SALES-CS") { report(month: $m) { draft { frictionItems { category severity customersAffected } } } } }',
      { m: month(0) },
    );
    expect(agreement.report.draft.frictionItems.at(-1)).toEqual({ category: 'HANDOVER', severity: 'HIGH', customersAffected: 12 });
    await page.click(`[data-friction="${i}"] .remove-friction`);
    expect(await page.locator('#friction-items fieldset').count()).toBe(before);
    await page.context().close();
  });

  it("the provider's head approves an amendment the customer proposed, after a rejection without a reason is refused beside it", async () => {
    const page = await newPage();
    await signInAs(page, 'HEAD_SALES', '/agreements/SALES-CS');
    const item = page.locator('li[data-amendment]:has(.badge:text-is("proposed"))');
    await item.waitFor();
    // Before and after, from the amendment's objective changes.
    expect(await item.textContent()).toContain('HANDOVER_DAYS change: target 2.00, warning 1.50, weight 1 → target 1.50, warning 1.00, weight 1');
    const id = (await item.getAttribute('data-amendment')) as string;
    // A second reader of the same agreement, whose page should follow the decision live.
    const watcher = await newPage();
    await signInAs(watcher, 'HEAD_SALES', '/agreements/SALES-CS');
    await watcher.waitForSelector(`li[data-amendment="${id}"] .badge:text-is("proposed")`);
    await watcher.evaluate(() => document.getElementById('main')?.setAttribute('data-not-reloaded', 'yes'));
    await watcher.waitForTimeout(500); // the subscription connects
    await item.locator('button.reject').click();
    await page.waitForSelector(`#err-amendment-${id}:not(:empty)`);
    await shot(page, 'agreement-amendment');
    await item.locator('button.approve').click();
    await page.waitForSelector(`li[data-amendment="${id}"] .badge:text-is("approved")`);
    const { agreement } = await api<{ agreement: { amendments: Array<{ id: string; status: string }> } }>(principals[1].token, 'query { agreement(key: "SALES-CS") { amendments { id status } } }');
    expect(agreement.amendments.find((x) => x.id === id)?.status).toBe('APPROVED');
    await watcher.waitForSelector(`li[data-amendment="${id}"] .badge:text-is("approved")`, { timeout: 10_000 });
    expect(await watcher.getAttribute('#main', 'data-not-reloaded')).toBe('yes');
    await watcher.context().close();
    await page.context().close();
  });

  it("a party's head proposes an amendment in the page (a warning on the wrong side refused beside it); the other party's head approves it", async () => {
    type Terms = {
      agreement: {
        id: string;
        amendments: Array<{ id: string; status: string }>;
        version: { objectives: Array<{ target: number; warning: number | null; metric: { id: string; code: string; direction: string } }> };
      };
    };
    const terms = () =>
      api<Terms>(
        principals[1].token,
        'query($m: Month!) { agreement(key: "FIN-SALES") { id amendments { id status } version(at: $m) { objectives { target warning metric { id code direction } } } } }',
        { m: month(0) },
      );
    const before = await terms();
    const accuracy = before.agreement.version.objectives.find((o) => o.metric.code === 'STATEMENT_ACCURACY')!;
    expect(accuracy.metric.direction).toBe('HIGHER_IS_BETTER');
    const page = await newPage();
    await signInAs(page, 'HEAD_SALES', '/agreements/FIN-SALES');
    await page.waitForSelector('#amendment-form');
    await page.selectOption('#amend-objective', accuracy.metric.id);
    // The current terms fill the fields.
    expect(Number(await page.inputValue('#amend-target'))).toBe(accuracy.target);
    expect(await page.inputValue('#amend-month')).toBe(month(1));
    // Higher is better, so a warning below the target is refused, beside the warning.
    await page.fill('#amend-target', '99.8');
    await page.fill('#amend-warning', '99.5');
    await page.fill('#amend-reason', 'Statement errors cost us two commission runs this year.');
    await page.click('#propose-amendment');
    await page.waitForSelector('#err-amend-warning:not(:empty)');
    expect(await page.textContent('#err-amend-warning')).toContain('at or above the target 99.8');
    expect(await page.getAttribute('#amend-warning', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#err-amend-target')).toBe('');
    expect((await terms()).agreement.amendments.length).toBe(before.agreement.amendments.length);
    await shot(page, 'agreement-amendment-form-error');
    expect(await seriousViolations(page)).toEqual([]);

    await page.fill('#amend-warning', '99.9');
    await page.click('#propose-amendment');
    const proposed = page.locator('#amendments li[data-amendment]:has(.badge:text-is("proposed"))');
    await proposed.waitFor();
    expect(await proposed.count()).toBe(1);
    expect(await proposed.textContent()).toContain(`from ${month(1)}: Statement errors cost us two commission runs this year.`);
    expect(await proposed.textContent()).toMatch(/STATEMENT_ACCURACY change: target [\d.]+, warning [\d.]+, weight \d+ → target 99\.80, warning 99\.90, weight \d+/);
    const id = (await proposed.getAttribute('data-amendment')) as string;
    const after = await terms();
    expect(after.agreement.amendments.length).toBe(before.agreement.amendments.length + 1);
    expect(after.agreement.amendments.find((x) => x.id === id)?.status).toBe('PROPOSED');

    // The provider's head approves it on the same page.
    const provider = await newPage();
    await signInAs(provider, 'HEAD_FIN', '/agreements/FIN-SALES');
    const item = provider.locator(`li[data-amendment="${id}"]`);
    await item.locator('button.approve').waitFor();
    await item.locator('button.approve').click();
    await provider.waitForSelector(`li[data-amendment="${id}"] .badge:text-is("approved")`);
    expect((await terms()).agreement.amendments.find((x) => x.id === id)?.status).toBe('APPROVED');
    const next = await api<Terms>(
      principals[1].token,
      'query($m: Month!) { agreement(key: "FIN-SALES") { id amendments { id status } version(at: $m) { objectives { target warning metric { id code direction } } } } }',
      {
        m: month(1),
      },
    );
    expect(next.agreement.version.objectives.find((o) => o.metric.code === 'STATEMENT_ACCURACY')).toMatchObject({ target: 99.8, warning: 99.9 });
    await provider.context().close();
    await page.context().close();
  });

  it('a head marks inbox items read, one and then all: the unread count follows, as the API counts it', async () => {
    const head = principals[2];
    const unread = async () => (await api<{ inbox: { unreadCount: number } }>(head.token, 'query { inbox(first: 0) { unreadCount } }')).inbox.unreadCount;
    const before = await unread();
    expect(before).toBeGreaterThanOrEqual(2);
    const page = await newPage();
    await signInAs(page, 'HEAD_FIN', '/departments/FIN');
    await page.waitForSelector('#inbox');
    expect(await page.textContent('#inbox-unread')).toBe(`${before} unread`);
    const first = page.locator('#inbox li.unread').first();
    const id = (await first.getAttribute('data-id')) as string;
    await first.locator('button.mark-read').click();
    await page.waitForSelector(`#inbox-unread:text-is("${before - 1} unread")`);
    expect(await page.getAttribute(`#inbox li[data-id="${id}"]`, 'class')).toBe('read');
    expect(await page.locator(`#inbox li[data-id="${id}"] button`).count()).toBe(0);
    expect(await unread()).toBe(before - 1);
    await shot(page, 'department-inbox');
    expect(await seriousViolations(page)).toEqual([]);

    await page.click('#mark-all-read');
    await page.waitForSelector('#inbox-unread:text-is("0 unread")');
    expect(await page.locator('#inbox li.unread').count()).toBe(0);
    expect(await page.isDisabled('#mark-all-read')).toBe(true);
    expect(await unread()).toBe(0);
    // Still so after a reload: the markers are the API's.
    await page.reload();
    await page.waitForSelector('#inbox');
    expect(await page.textContent('#inbox-unread')).toBe('0 unread');
    expect(await page.locator('#inbox li.unread').count()).toBe(0);
    await page.context().close();
  });

  it('every action is reachable by keyboard: a head signs in and submits a corrected report with Tab, typing and Enter only', async () => {
    expect(submitted).not.toBeNull();
    const { key, month: at } = submitted!;
    const page = await newPage();
    await page.goto(`${s.url}/org`);
    await page.waitForSelector('#demo-principals button');
    expect(await unreachableByTab(page)).toEqual([]);
    // Signing in as a demo principal: Tab to its button, Enter.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await tabTo(page, 'button[data-principal="HEAD_FIN"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#org-trend[data-rendered]');
    for (const id of ['departments', 'at-risk', 'overdue']) await page.waitForSelector(`#${id}[data-loaded]`);
    expect(await unreachableByTab(page)).toEqual([]);

    // The disputed month's report, corrected: Tab to the value, type it, Tab to Submit, Enter.
    await page.goto(`${s.url}/agreements/${key}/report?month=${at}`);
    await page.waitForSelector('#report-form');
    expect(await unreachableByTab(page)).toEqual([]);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await tabTo(page, '#report-form input[type=number]');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('99.7');
    await tabTo(page, '#narrative');
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('Corrected against the commission runs.');
    await tabTo(page, '#submit-report');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#form-status:has-text("Submitted as revision 2")');
    const { agreement } = await api<{ agreement: { report: { latestRevision: { number: number; narrative: string; values: Array<{ value: number; metric: { code: string } }> } } } }>(
      principals[2].token,
      'query($k: String!, $m: Month!) { agreement(key: $k) { report(month: $m) { latestRevision { number narrative values { value metric { code } } } } } }',
      { k: key, m: at },
    );
    expect(agreement.report.latestRevision.number).toBe(2);
    expect(agreement.report.latestRevision.narrative).toBe('Corrected against the commission runs.');
    expect(agreement.report.latestRevision.values.map((v) => [v.metric.code, v.value])).toEqual([['STATEMENT_ACCURACY', 99.7]]);
    // The other views with actions: the agreement (decisions, the amendment form) and the department (inbox).
    await page.goto(`${s.url}/agreements/${key}`);
    await page.waitForSelector('#amendment-form');
    expect(await unreachableByTab(page)).toEqual([]);
    await page.goto(`${s.url}/departments/FIN`);
    await page.waitForSelector('#inbox');
    expect(await unreachableByTab(page)).toEqual([]);
    await page.context().close();
  });

  it('a refused token stays on the sign-in page with the reason, and nothing is stored', async () => {
    const page = await newPage();
    await page.goto(`${s.url}/org`);
    await page.waitForSelector('#signin-form');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await page.fill('#token', 'tsla_not-a-real-token');
    await page.click('#signin-form button[type=submit]');
    await page.waitForSelector('#signin-error:has-text("refused")');
    expect(await page.evaluate(() => sessionStorage.getItem('tiered-sla.token'))).toBeNull();
    await shot(page, 'sign-in');
    expect(await seriousViolations(page)).toEqual([]);
    await page.context().close();
  });

  it('the GraphQL IDE loads and runs a query with every request off this machine blocked', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const blocked: string[] = [];
    await context.route('**/*', (route) => {
      const { hostname, protocol } = new URL(route.request().url());
      if (protocol === 'blob:' || protocol === 'data:' || hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
      blocked.push(route.request().url());
      return route.abort();
    });
    const page = await newPage(context);
    await page.goto(`${s.url}/graphql`);
    await page.waitForSelector('.graphiql-container');
    // The demo's admin token is prefilled: running the default query answers as that admin.
    await page.click('.graphiql-execute-button');
    await page.waitForFunction(() => document.body.innerText.includes('"ADMIN"'), undefined, { timeout: 20_000 });
    await shot(page, 'graphql-ide');
    expect(blocked).toEqual([]);
    await context.close();
  });
});
