/* Sign-in with an API token, kept in this tab's session storage. On the embedded demo the server
 * offers its demo principals (GET /dashboard/demo-principals; 404 elsewhere). */
import { gql, session } from '../api';
import { h, replace } from '../dom';

interface DemoPrincipal {
  key: string;
  name: string;
  role: string;
  department: string | null;
  token: string;
}

async function demoPrincipals(): Promise<DemoPrincipal[]> {
  try {
    const res = await fetch('/dashboard/demo-principals', { headers: { accept: 'application/json' } });
    if (!res.ok) return [];
    return ((await res.json()) as { principals: DemoPrincipal[] }).principals;
  } catch {
    return [];
  }
}

/** Renders the sign-in page; `done` runs once a token proved good. */
export async function signInView(main: HTMLElement, done: () => void): Promise<void> {
  const message = h('p', { role: 'alert', class: 'field-error', id: 'signin-error' });
  const tokenInput = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'signin-error' });
  const tryToken = async (token: string) => {
    session.signIn(token);
    try {
      await gql('query DashboardWhoAmI { me { id } }');
      done();
    } catch (e) {
      session.signOut();
      message.textContent = `That token was refused: ${(e as Error).message}`;
    }
  };
  const principals = await demoPrincipals();
  replace(
    main,
    h('h1', {}, 'Sign in'),
    h(
      'form',
      {
        id: 'signin-form',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void tryToken(tokenInput.value.trim());
        },
      },
      h('div', { class: 'field' }, h('label', { for: 'token' }, 'API token'), tokenInput, h('span', { class: 'hint' }, 'Kept in this tab only; closing it signs you out.')),
      message,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')),
    ),
    principals.length
      ? h(
          'section',
          { id: 'demo-principals' },
          h('h2', {}, 'Demo principals'),
          h('p', {}, 'This server runs the embedded demo: sign in as one of its people.'),
          h(
            'ul',
            { class: 'principals' },
            principals.map((p) =>
              h(
                'li',
                {},
                h(
                  'button',
                  { type: 'button', 'data-principal': p.key, onclick: () => void tryToken(p.token) },
                  `${p.name}`,
                  h('span', { class: 'hint' }, ` ${p.role.toLowerCase()}${p.department ? `, ${p.department}` : ''}`),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}
