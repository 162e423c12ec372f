import { BlobServiceClient, ContainerSASPermissions, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';

/**
 * A URL with a SAS token for a container of an Azurite account (created here), as an operator would pass a
 * container URL to the CLI: the SAS stands in for the Entra identity Azure would use.
 */
export async function containerSasUrl(connectionString: string, container: string): Promise<string> {
  const service = BlobServiceClient.fromConnectionString(connectionString);
  await service.getContainerClient(container).createIfNotExists();
  const account = /AccountName=([^;]+)/.exec(connectionString)?.[1] ?? 'devstoreaccount1';
  const key = /AccountKey=([^;]+)/.exec(connectionString)![1];
  const sas = generateBlobSASQueryParameters(
    { containerName: container, permissions: ContainerSASPermissions.parse('racwdl'), expiresOn: new Date(Date.now() + 3600_000) },
    new StorageSharedKeyCredential(account, key),
  );
  return `${service.getContainerClient(container).url}?${sas.toString()}`;
}
