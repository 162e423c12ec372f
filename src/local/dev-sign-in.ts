import { createHash } from 'node:crypto';
import type { ApiRequest, ApiResponse } from '../lib/api/http';
import { readBoundedBody } from '../lib/api/request-body';
import { webFile } from '../lib/api/static-files';
import { clientPrincipalHeader, PRINCIPAL_HEADER, ROLES, type Principal, type Role } from '../lib/auth/principal';

/**
 * The local host's stand-in for App Service Authentication with AUTH_MODE=easyauth: a development sign-in page at the
 * address Easy Auth's Entra ID sign-in has in Azure (/.auth/login/aad), where a person picks a user and roles, and
 * /.auth/logout. The choice is kept in a cookie and turned into the X-MS-CLIENT-PRINCIPAL header Easy Auth would
 * inject. Local only: src/local is never deployed, and in Azure these addresses belong to Easy Auth.
 */

const COOKIE = 'ip-local-principal';
const HOME = '/api/web/';

/** People to sign in as with one click: two uploaders, an analyst and an operator. */
export const LOCAL_PEOPLE: ReadonlyArray<{ name: string; roles: Role[] }> = [
  { name: 'Alice', roles: ['uploader'] },
  { name: 'Bob', roles: ['uploader'] },
  { name: 'Ann', roles: ['analyst'] },
  { name: 'Olga', roles: ['operator'] },
];

/** A stable object id for a name: the same name is the same user, in every session and after restarts. */
export function localObjectId(name: string): string {
  const hex = createHash('sha256').update(`local-user:${name.trim().toLowerCase()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Only paths of this host: never an open redirect. */
const returnPath = (value: string | null | undefined) => (value && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') ? value : HOME);

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
};

function signInPage(returnTo: string): ApiResponse {
  const people = LOCAL_PEOPLE.map(
    ({ name, roles }) => `<li><button type="submit" name="person" value="${escape(name)}">Sign in as ${escape(name)} (${roles.join(', ')})</button></li>`,
  ).join('\n        ');
  // Where to go afterwards travels in the form's address, as Easy Auth's post_login_redirect_uri does.
  const action = escape(`/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(returnTo)}`);
  const roleBoxes = ROLES.map((role) => `<label><input type="checkbox" name="role" value="${role}"> ${role}</label>`).join('\n          ');
  const body = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Local sign-in · Image Pipeline</title>
  <link rel="icon" href="/.auth/login/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/.auth/login/styles.css">
</head>
<body>
  <main id="main">
    <h1>Local development sign-in</h1>
    <p class="notice" role="note"><strong>Local only.</strong> This page exists only on the local host (<code>npm start</code> with
    <code>AUTH_MODE=easyauth</code>). In Azure this address is App Service Authentication's sign-in with Entra ID, and roles are
    app roles assigned in Entra ID. Here anyone may be anyone: it is for trying the access rules, not for protecting data.</p>
    <form class="card" method="post" action="${action}">
      <h2>Pick a user</h2>
      <ul class="sign-in-people">
        ${people}
      </ul>
    </form>
    <form class="card" method="post" action="${action}">
      <h2>Or someone else</h2>
      <p><label for="name">Name</label> <input id="name" name="name" required maxlength="100" autocomplete="off"></p>
      <fieldset>
        <legend>Roles</legend>
          ${roleBoxes}
      </fieldset>
      <p><button type="submit">Sign in</button></p>
    </form>
  </main>
</body>
</html>
`;
  return { status: 200, headers: PAGE_HEADERS, body };
}

/** The principal a submitted sign-in form names, or undefined when it names nobody. */
function chosenPrincipal(form: URLSearchParams): Principal | undefined {
  const person = LOCAL_PEOPLE.find((p) => p.name === form.get('person'));
  const name = (person?.name ?? form.get('name') ?? '').trim().slice(0, 100);
  if (!name) return undefined;
  const roles = person?.roles ?? ROLES.filter((role) => form.getAll('role').includes(role));
  return { id: localObjectId(name), name, roles };
}

/** GET shows the sign-in page; POST signs in and returns to where the browser came from. */
export async function localSignIn(request: ApiRequest): Promise<ApiResponse> {
  const returnTo = returnPath(new URL(request.url).searchParams.get('post_login_redirect_uri'));
  if (request.method !== 'POST') return signInPage(returnTo);
  const form = new URLSearchParams((await readBoundedBody(request, 16 * 1024, 'a sign-in form is at most 16 KB')).toString('utf8'));
  const principal = chosenPrincipal(form);
  if (!principal) return signInPage(returnTo);
  return {
    status: 303,
    headers: {
      location: returnTo,
      'set-cookie': `${COOKIE}=${clientPrincipalHeader(principal)}; Path=/; HttpOnly; SameSite=Lax`,
      'cache-control': 'no-store',
    },
  };
}

/** The web app's stylesheet and icon for the sign-in page, which a browser loads before anyone is signed in. */
export const SIGN_IN_ASSETS = ['styles.css', 'favicon.svg'];
export const localSignInAsset = (file: string) => (request: ApiRequest) => webFile({ ...request, params: { file } });

/** GET /.auth/logout: forgets the signed-in user, as Easy Auth's does. */
export async function localSignOut(request: ApiRequest): Promise<ApiResponse> {
  const returnTo = returnPath(new URL(request.url).searchParams.get('post_logout_redirect_uri'));
  return {
    status: 302,
    headers: { location: returnTo, 'set-cookie': `${COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`, 'cache-control': 'no-store' },
  };
}

/**
 * What Easy Auth does before a request reaches the app: a signed-in browser's session becomes X-MS-CLIENT-PRINCIPAL,
 * replacing whatever the browser sent. Without a session the header is left as the client sent it: locally it stands
 * for the Entra ID token Easy Auth would have validated (tests and scripts present a principal that way).
 */
export function applyLocalSession(headers: Headers): void {
  const cookies = (headers.get('cookie') ?? '').split(';').map((part) => part.trim());
  const session = cookies.find((cookie) => cookie.startsWith(`${COOKIE}=`))?.slice(COOKIE.length + 1);
  if (session) headers.set(PRINCIPAL_HEADER, session);
}
