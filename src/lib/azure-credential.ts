import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { Connection } from './config';

/** The credential an identity-based connection names, as the Functions host resolves `__credential`/`__clientId`. */
export function credentialFor(connection: Extract<Connection, { kind: 'identity' }>): TokenCredential {
  if (connection.credential === 'managedidentity') {
    return connection.clientId ? new ManagedIdentityCredential({ clientId: connection.clientId }) : new ManagedIdentityCredential();
  }
  return new DefaultAzureCredential(connection.clientId ? { managedIdentityClientId: connection.clientId } : {});
}
