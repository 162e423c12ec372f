import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROLES } from '../../src/lib/auth/principal';

// infra/entra/app-roles.json is what `az ad app create --app-roles` gets (infra/README.md "Sign-in with Entra ID"):
// its values must be the roles the access rules know, or a role assigned in Entra ID would grant nothing.
const appRoles = JSON.parse(readFileSync(join(__dirname, '../../infra/entra/app-roles.json'), 'utf8')) as Array<{
  allowedMemberTypes: string[];
  id: string;
  isEnabled: boolean;
  value: string;
}>;

describe('Entra ID app roles', () => {
  it('declares exactly the roles of src/lib/auth/principal.ts, enabled, for people and applications, with fixed ids', () => {
    expect(appRoles.map((role) => role.value).sort()).toEqual([...ROLES].sort());
    expect(['analyst', 'operator', 'uploader']).toEqual([...ROLES].sort());
    for (const role of appRoles) {
      expect(role.isEnabled, role.value).toBe(true);
      expect(role.allowedMemberTypes.sort(), role.value).toEqual(['Application', 'User']);
      expect(role.id, role.value).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(appRoles.map((role) => role.id)).size).toBe(appRoles.length);
  });
});
