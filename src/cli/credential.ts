import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';

/**
 * DefaultAzureCredential (environment variables, workload identity, managed identity, az login, ...), created on
 * first use and then shared, so Kafka and blob storage use one identity and one token cache per scope.
 */
export function sharedCredential(): () => TokenCredential {
  let credential: TokenCredential | undefined;
  return () => (credential ??= new DefaultAzureCredential());
}
