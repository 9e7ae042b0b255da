/* The dashboard (issue 17): history routing over bookmarkable paths, each drawn by one view. */
import './styles.css';
import { ApiError, gql, session } from './api';
import { h, link, replace } from './dom';
import { disconnect, leavePage } from './live';
import { isMonth, monthOf } from './months';
import { agreementView } from './views/agreement';
import { departmentView } from './views/department';
import { handoffsView } from './views/handoffs';
import { monthView } from './views/month';
import { orgView } from './views/org';
import { reportView } from './views/report';
import { signInView } from './views/signin';

interface Me {
  name: string;
  role: string;
  department: { code: string; name: string } | null;
}
let me: Me | null = null;

function navigate(path: string): void {
  history.pushState(null, '', path);
  void render();
}

function header(): void {
  const nav = document.getElementById('nav') as HTMLElement;
  const who = document.getElementById('who') as HTMLElement;
  if (!me) {
    replace(nav);
    replace(who);
    return;
  }
  replace(
    nav,
    h(
      'ul',
      {},
      h('li', {}, link('/org', 'Organisation')),
      me.department ? h('li', {}, link(`/departments/${encodeURIComponent(me.department.code)}`, me.department.name)) : null,
      h('li', {}, link('/handoffs', 'Handoffs')),
      h('li', {}, h('a', { href: '/graphql' }, 'GraphQL IDE')),
    ),
  );
  replace(
    who,
    `${me.name} (${me.role.toLowerCase()})`,
    ' ',
    h(
      'button',
      {
        type: 'button',
        id: 'sign-out',
        onclick: () => {
          session.signOut();
          disconnect();
          me = null;
          navigate('/sign-in');
        },
      },
      'Sign out',
    ),
  );
}

/** Draws the view of the current URL. */
async function render(): Promise<void> {
  leavePage();
  const main = document.getElementById('main') as HTMLElement;
  const url = new URL(location.href);
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const month = url.searchParams.get('month');
  const current = isMonth(month) ? month : monthOf(new Date());
  if (!session.token() || path === '/sign-in') {
    me = null;
    header();
    document.title = 'Sign in · tiered-sla';
    const next = path === '/sign-in' ? (url.searchParams.get('next') ?? '/org') : `${url.pathname}${url.search}`;
    if (path !== '/sign-in') history.replaceState(null, '', `/sign-in?next=${encodeURIComponent(next)}`);
    return signInView(main, () => navigate(next.startsWith('/') && !next.startsWith('//') ? next : '/org'));
  }
  main.replaceChildren(h('p', { role: 'status' }, 'Loading…'));
  try {
    me ??= (await gql<{ me: Me }>('query DashboardMe { me { name role department { code name } } }')).me;
    header();
    let m: RegExpExecArray | null;
    if (path === '/' || path === '/org') {
      document.title = 'Organisation · tiered-sla';
      await orgView(main, current);
    } else if ((m = /^\/agreements\/([^/]+)\/report$/.exec(path))) {
      document.title = 'Report · tiered-sla';
      await reportView(main, decodeURIComponent(m[1]), isMonth(month) ? month : current);
    } else if ((m = /^\/agreements\/([^/]+)\/month$/.exec(path))) {
      document.title = 'Monthly report · tiered-sla';
      await monthView(main, decodeURIComponent(m[1]), isMonth(month) ? month : current, me.department?.code ?? null);
    } else if ((m = /^\/agreements\/([^/]+)$/.exec(path))) {
      document.title = `${decodeURIComponent(m[1])} · tiered-sla`;
      await agreementView(main, decodeURIComponent(m[1]), current, { department: me.department?.code ?? null, admin: me.role === 'ADMIN' });
    } else if ((m = /^\/departments\/([^/]+)$/.exec(path))) {
      const code = decodeURIComponent(m[1]);
      document.title = `${code} · tiered-sla`;
      await departmentView(main, code, current, me.department?.code === code);
    } else if (path === '/handoffs') {
      document.title = 'Handoffs · tiered-sla';
      await handoffsView(main, url.searchParams.get('from') ?? 'MKT', url.searchParams.get('to') ?? 'CS', current);
    } else {
      main.replaceChildren(h('h1', {}, 'Not found'), h('p', {}, link('/org', 'To the organisation')));
    }
    main.focus({ preventScroll: true });
  } catch (e) {
    if (e instanceof ApiError && e.code === 'UNAUTHENTICATED') {
      session.signOut();
      me = null;
      return render();
    }
    main.replaceChildren(h('h1', {}, 'Something went wrong'), h('p', { role: 'alert' }, (e as Error).message));
  }
}

document.addEventListener('click', (e) => {
  const a = (e.target as Element).closest('a[data-link]');
  if (!a || e.defaultPrevented || (e as MouseEvent).button !== 0 || (e as MouseEvent).metaKey || (e as MouseEvent).ctrlKey || (e as MouseEvent).shiftKey) return;
  e.preventDefault();
  navigate((a as HTMLAnchorElement).getAttribute('href') as string);
});
window.addEventListener('popstate', () => void render());
void render();
