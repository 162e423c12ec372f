import type { Services } from '../services';
import type { Caller } from './access';
import { json, type ApiRequest, type ApiResponse } from './http';

/** GET /api/me: who the app takes the caller to be, for the web pages' "signed in as" and for checking a token. */
export async function whoAmI(_request: ApiRequest, services: Services, _orchestrations: unknown, caller: Caller): Promise<ApiResponse> {
  const { id, name, roles } = caller.principal;
  const authMode = services.config.auth.mode;
  return json(200, { id, name, roles, authMode, ...(authMode === 'easyauth' ? { signOut: '/.auth/logout?post_logout_redirect_uri=/api/web/' } : {}) }, { 'cache-control': 'no-store' });
}
