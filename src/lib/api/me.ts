import { z } from 'zod';
import { ROLES } from '../auth/principal';
import { AUTH_MODES } from '../config';
import type { Services } from '../services';
import type { Caller } from './access';
import { json, type ApiRequest, type ApiResponse } from './http';

/** GET /api/me's answer. */
export const Me = z
  .strictObject({
    id: z.string().meta({ description: 'The object id (`oid`): what images and batches record as their owner.' }),
    name: z.string(),
    roles: z.array(z.enum(ROLES)),
    authMode: z.enum(AUTH_MODES),
    signOut: z.string().optional().meta({ description: 'Where a browser signs out (easyauth).' }),
  })
  .meta({ id: 'Me' });

/** GET /api/me: who the app takes the caller to be, for the web pages' "signed in as" and for checking a token. */
export async function whoAmI(_request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const { id, name, roles } = caller.principal;
  const authMode = services.config.auth.mode;
  return json(200, { id, name, roles, authMode, ...(authMode === 'easyauth' ? { signOut: '/.auth/logout?post_logout_redirect_uri=/api/web/' } : {}) } satisfies z.infer<typeof Me>, { 'cache-control': 'no-store' });
}
