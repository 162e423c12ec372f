import { describe, expect, it } from 'vitest';
import { ownerHash } from '../../src/lib/auth/owner-hash';
import { clientPrincipalHeader, readClientPrincipal } from '../../src/lib/auth/principal';
import { principalHeader, USERS } from '../support/principals';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

describe('X-MS-CLIENT-PRINCIPAL', () => {
  it('reads the object id, name and app roles of a signed-in user as Easy Auth writes them', () => {
    expect(readClientPrincipal(principalHeader(USERS.alice))).toEqual({ id: USERS.alice.id, name: 'Alice', roles: ['uploader'] });
  });

  it('takes role claims of the role_typ the header names, and ignores roles that are not the app\'s', () => {
    const value = encode({
      auth_typ: 'aad',
      name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
      role_typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role',
      claims: [
        { typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name', val: 'olga@contoso.example' },
        { typ: 'oid', val: 'f00d' },
        { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'operator' },
        { typ: 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role', val: 'Global Administrator' },
        { typ: 'groups', val: 'analyst' },
      ],
    });
    expect(readClientPrincipal(value)).toEqual({ id: 'f00d', name: 'olga@contoso.example', roles: ['operator'] });
  });

  it('names an application (client credentials, managed identity) by its client id', () => {
    const value = encode({ auth_typ: 'aad', claims: [{ typ: 'oid', val: 'sp-1' }, { typ: 'appid', val: 'c11e0000' }, { typ: 'roles', val: 'uploader' }] });
    expect(readClientPrincipal(value)).toEqual({ id: 'sp-1', name: 'c11e0000', roles: ['uploader'] });
  });

  it.each([
    ['missing', null],
    ['empty', ''],
    ['not base64 JSON', 'hello there'],
    ['JSON of another shape', encode({ user: 'alice', roles: ['operator'] })],
    ['claims without an object id', encode({ claims: [{ typ: 'name', val: 'Mallory' }, { typ: 'roles', val: 'operator' }] })],
    ['a claim that is not a string', encode({ claims: [{ typ: 'oid', val: 7 }] })],
  ])('is nobody when %s', (_name, value) => {
    expect(readClientPrincipal(value)).toBeUndefined();
  });

  it('writes what it reads (the local sign-in page makes the header with it)', () => {
    const principal = { id: 'x-1', name: 'Xavier', roles: ['uploader' as const, 'analyst' as const] };
    expect(readClientPrincipal(clientPrincipalHeader(principal))).toEqual(principal);
  });
});

describe('ownerHash', () => {
  // Expected values from `openssl dgst -sha256 -hmac <salt> -binary | base64`, made base64url.
  it('is HMAC-SHA256 of the object id under OWNER_HASH_SALT, base64url', () => {
    expect(ownerHash({ ownerHashSalt: 'a-salt-of-at-least-thirty-two-characters' }, USERS.alice.id)).toBe('s7_2sPgd-h2un1eMJ3F97CdWA-BLEapKQEAMVNvzAH4');
    expect(ownerHash({ ownerHashSalt: 'another-salt-of-at-least-thirty-two-chars' }, USERS.alice.id)).toBe('KY6NKf3I-hddw7ObvSwPgBLF5XxY4GRsscO725sljB8');
  });

  it('is the same for one owner and different for two; without a salt, stable within the process', () => {
    const unsalted = {};
    expect(ownerHash(unsalted, USERS.bob.id)).toBe(ownerHash(unsalted, USERS.bob.id));
    expect(ownerHash(unsalted, USERS.bob.id)).not.toBe(ownerHash(unsalted, USERS.alice.id));
    expect(ownerHash(unsalted, USERS.bob.id)).not.toContain(USERS.bob.id);
  });
});
