import { ownerHash } from '../auth/owner-hash';
import { LOCAL_USER, PRINCIPAL_HEADER, readClientPrincipal, type Principal, type Role } from '../auth/principal';
import type { Config } from '../config';
import { chargeUploadRequest, reserveUploadBytes } from '../limits/upload-limits';
import { problem } from '../problem';
import type { Services } from '../services';
import type { ApiRequest, ApiResponse } from './http';

/** What one route allows. */
export interface AccessRule {
  /** Who may call it: any signed-in principal, or one holding at least one of these app roles. */
  roles: 'any' | readonly Role[];
  /** Of those, who sees (and acts on) every owner's images and batches; the others see only their own. */
  everyOwner?: readonly Role[];
  /** A web page: a caller who is not signed in is sent to sign in, rather than answered 401. */
  page?: true;
  /** An upload: it counts against the caller's UPLOAD_RATE_PER_MINUTE. */
  upload?: true;
}

const UPLOADERS: readonly Role[] = ['uploader', 'operator'];
const OWN_OR_EVERY: AccessRule = { roles: UPLOADERS, everyOwner: ['operator'] };
const OPERATORS: AccessRule = { roles: ['operator'], everyOwner: ['operator'] };

/**
 * Every route's rule, by route name (src/lib/api/routes.ts); test/auth/access-rules.test.ts fails for a route
 * without one, and a route without one is refused to everybody. An `uploader` uploads and sees only their own
 * images, batches, thumbnails and previews (anyone else's answer 404, exactly like an id nobody has); an `analyst`
 * sees statistics and exports, nobody's images; an `operator` sees everything, retries batches, runs the sweep.
 */
export const ACCESS_RULES: Record<string, AccessRule> = {
  uploadImage: { roles: UPLOADERS, upload: true },
  listImages: OWN_OR_EVERY,
  getImage: OWN_OR_EVERY,
  getImageDerivative: OWN_OR_EVERY,
  getSimilarImages: OWN_OR_EVERY,
  uploadBatch: { roles: UPLOADERS, upload: true },
  registerBatch: { roles: UPLOADERS, upload: true },
  listBatches: OWN_OR_EVERY,
  getBatch: OWN_OR_EVERY,
  listBatchItems: OWN_OR_EVERY,
  // De-identified aggregates over every owner: for analysts (and operators), not for uploaders.
  getStats: { roles: ['analyst', 'operator'] },
  retryBatch: OPERATORS,
  sweepBatches: OPERATORS,
  whoAmI: { roles: 'any' },
  webIndex: { roles: 'any', page: true },
  webFile: { roles: 'any', page: true },
  // The API's description holds no data: any signed-in caller (a browser that is not is sent to sign in).
  openApiDocument: { roles: 'any' },
};

/** The caller of one request, as the handlers see it. */
export interface Caller {
  principal: Principal;
  /** Sees every owner's images and batches; otherwise only its own. */
  everyOwner: boolean;
}

/** Whether the caller may see something owned by `owner`: anyone else's is answered like an id nobody has (404). */
export const mayUse = (caller: Caller, owner: string | undefined) => caller.everyOwner || owner === caller.principal.id;

/** The owner a listing is narrowed to: the caller's own, unless it sees every owner. */
export const ownerFilter = (caller: Caller) => (caller.everyOwner ? undefined : caller.principal.id);

/**
 * The caller's upload limits (src/lib/limits/upload-limits.ts): a request, and the bytes of an upload that passed
 * validation. Counted under the owner hash. Per user, so the one local user of AUTH_MODE=open is not limited.
 */
export function uploadLimits(services: Pick<Services, 'usage' | 'config'>, caller: Caller) {
  const { config, usage } = services;
  const limits = config.auth.mode === 'open' ? { requestsPerMinute: 0, bytesPerDay: 0 } : config.uploadLimits;
  const owner = ownerHash(config, caller.principal.id);
  return {
    chargeRequest: () => chargeUploadRequest(usage, limits, owner),
    reserveBytes: (bytes: number) => reserveUploadBytes(usage, limits, owner, bytes),
  };
}

/** Where a browser signs in: App Service Authentication's Entra ID login in Azure, the development page locally. */
export const signInPath = (returnTo: string) => `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(returnTo)}`;

/**
 * Who is calling. AUTH_MODE=open: the one local user. AUTH_MODE=easyauth: the X-MS-CLIENT-PRINCIPAL header, which
 * App Service Authentication writes after validating the session cookie or the bearer token, replacing any copy a
 * client sent; so the header is believed only where that is known to happen (WEBSITE_AUTH_ENABLED, or the local host
 * standing in for Easy Auth). Anywhere else anyone could send one, so nobody is served.
 */
function identify(request: ApiRequest, auth: Config['auth']): Principal | undefined {
  if (auth.mode === 'open') return LOCAL_USER;
  if (!auth.principalHeaderTrusted) {
    throw problem(
      'authentication-not-configured',
      'AUTH_MODE is easyauth but App Service Authentication is not on for this app (WEBSITE_AUTH_ENABLED is not set), so the X-MS-CLIENT-PRINCIPAL header could come from anyone; no request is served until it is on (see infra/README.md).',
    );
  }
  return readClientPrincipal(request.headers.get(PRINCIPAL_HEADER));
}

/**
 * Applies the route's rule: the caller, or a redirect to sign in (pages), or a ProblemError: 401 without a signed-in
 * principal, 403 when its roles do not allow the route.
 */
export function authorize(routeName: string, request: ApiRequest, auth: Config['auth']): Caller | ApiResponse {
  const rule = ACCESS_RULES[routeName];
  if (!rule) throw problem('forbidden', `The route ${routeName} has no access rule, so nobody may use it.`);
  const principal = identify(request, auth);
  if (!principal) {
    if (rule.page) {
      const url = new URL(request.url);
      return { status: 302, headers: { location: signInPath(`${url.pathname}${url.search}`), 'cache-control': 'no-store' } };
    }
    throw problem(
      'unauthorized',
      'Sign in first (browsers), or send an Entra ID access token for this app as Authorization: Bearer (machine clients: client credentials or a managed identity).',
      {},
      { 'www-authenticate': 'Bearer' },
    );
  }
  const holds = (roles: readonly Role[]) => roles.some((role) => principal.roles.includes(role));
  if (rule.roles !== 'any' && !holds(rule.roles)) {
    throw problem('forbidden', `This needs the app role ${rule.roles.join(' or ')}; ${principal.name} has ${principal.roles.length ? principal.roles.join(', ') : 'none'}.`);
  }
  return { principal, everyOwner: holds(rule.everyOwner ?? []) };
}
