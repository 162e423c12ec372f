import { z } from 'zod';

/**
 * The app roles of the Entra ID app registration (README "Users, roles and ownership"): an `uploader` uploads and
 * sees only their own images and batches; an `analyst` sees statistics and exports, nobody's images; an `operator`
 * sees everything, retries batches and runs the sweep.
 */
export const ROLES = ['uploader', 'analyst', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: a person or an application (a service principal or managed identity), by Entra object id. */
export interface Principal {
  /** The object id (`oid`): what images and batches record as their owner. */
  id: string;
  name: string;
  roles: Role[];
}

/** The header App Service Authentication (Easy Auth) injects after it has validated a session cookie or token. */
export const PRINCIPAL_HEADER = 'x-ms-client-principal';

/** Owner of records sent without registering their batch: nobody's, so only operators see them. */
export const UNATTRIBUTED_OWNER = 'unattributed';

/** The one user of `AUTH_MODE=open` (the local host's default): every role, as open as Core Tools. */
export const LOCAL_USER: Principal = { id: 'local-user', name: 'Local user (AUTH_MODE=open)', roles: [...ROLES] };

const OBJECT_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'];
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const NAME_CLAIMS = ['name', 'preferred_username', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'];

/** Easy Auth's X-MS-CLIENT-PRINCIPAL: base64 of this JSON, the token's claims as `typ`/`val` pairs. */
const clientPrincipalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).max(1000),
});

export type ClientPrincipal = z.infer<typeof clientPrincipalSchema>;

/**
 * The principal in an X-MS-CLIENT-PRINCIPAL value, or undefined when there is none or it is unusable (not base64
 * JSON of the documented shape, or without an object id). Roles that are not the app's are ignored.
 */
export function readClientPrincipal(header: string | null): Principal | undefined {
  if (!header) return undefined;
  let parsed: ClientPrincipal;
  try {
    parsed = clientPrincipalSchema.parse(JSON.parse(Buffer.from(header, 'base64').toString('utf8')));
  } catch {
    return undefined;
  }
  const values = (types: Array<string | undefined>) => parsed.claims.filter((claim) => types.includes(claim.typ)).map((claim) => claim.val);
  const id = values(OBJECT_ID_CLAIMS)[0];
  if (!id) return undefined;
  const roles = new Set(values([parsed.role_typ, ...ROLE_CLAIMS]));
  return {
    id,
    // An application's token has no name: its client id says which one it is.
    name: values([parsed.name_typ, ...NAME_CLAIMS])[0] ?? values(['appid', 'azp'])[0] ?? id,
    roles: ROLES.filter((role) => roles.has(role)),
  };
}

/** An X-MS-CLIENT-PRINCIPAL value for a principal, as Easy Auth writes it (the local host's sign-in page uses it). */
export function clientPrincipalHeader(principal: Principal): string {
  const value: ClientPrincipal = {
    auth_typ: 'aad',
    name_typ: 'name',
    role_typ: 'roles',
    claims: [{ typ: OBJECT_ID_CLAIMS[0]!, val: principal.id }, { typ: 'name', val: principal.name }, ...principal.roles.map((role) => ({ typ: 'roles', val: role }))],
  };
  return Buffer.from(JSON.stringify(value)).toString('base64');
}
