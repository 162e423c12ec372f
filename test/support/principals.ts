/**
 * Principals as App Service Authentication hands them to the app: the X-MS-CLIENT-PRINCIPAL header, base64 of the
 * JSON Easy Auth documents (`auth_typ`, `name_typ`, `role_typ` and the token's claims as `typ`/`val` pairs, the
 * object id under its long claim type). Built here from that description, not with the app's own encoder.
 */
export interface TestUser {
  id: string;
  name: string;
  roles: string[];
}

export const USERS = {
  alice: { id: '0a11ce00-0000-4000-8000-000000000001', name: 'Alice', roles: ['uploader'] },
  bob: { id: '0b0b0000-0000-4000-8000-000000000002', name: 'Bob', roles: ['uploader'] },
  ann: { id: '0a770000-0000-4000-8000-000000000003', name: 'Ann', roles: ['analyst'] },
  olga: { id: '0019a000-0000-4000-8000-000000000004', name: 'Olga', roles: ['operator'] },
  /** Signed in, but assigned no app role. */
  nobody: { id: '00000000-0000-4000-8000-000000000005', name: 'Nora', roles: [] },
} satisfies Record<string, TestUser>;

export type UserName = keyof typeof USERS;

export function principalHeader(user: TestUser): string {
  const claims = [
    { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: user.id },
    { typ: 'name', val: user.name },
    { typ: 'http://schemas.microsoft.com/identity/claims/tenantid', val: '00000000-0000-0000-0000-00000000b002' },
    ...user.roles.map((role) => ({ typ: 'roles', val: role })),
  ];
  return Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims })).toString('base64');
}

/** Request headers that present `user` as Easy Auth would. */
export const as = (user: TestUser | undefined): Record<string, string> => (user ? { 'x-ms-client-principal': principalHeader(user) } : {});
