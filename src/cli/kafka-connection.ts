import type { KafkaConfig } from 'kafkajs';

/** Event Hubs' Kafka endpoint: port 9093, TLS, SASL PLAIN with the connection string as the password. */
export function eventHubsKafka(connectionString: string): { config: KafkaConfig; entityPath?: string } {
  const parts = Object.fromEntries(
    connectionString
      .split(';')
      .filter(Boolean)
      .map((part) => {
        const at = part.indexOf('=');
        return [part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim()];
      }),
  );
  const host = parts.endpoint?.match(/^sb:\/\/([^/]+)\/?$/)?.[1];
  if (!host) throw new Error('The Event Hubs connection string must hold Endpoint=sb://<namespace>.servicebus.windows.net/');
  return {
    config: {
      clientId: 'image-pipeline-cli',
      brokers: [`${host}:9093`],
      ssl: true,
      sasl: { mechanism: 'plain', username: '$ConnectionString', password: connectionString },
    },
    entityPath: parts.entitypath,
  };
}

export const plainKafka = (brokers: string[]): KafkaConfig => ({ clientId: 'image-pipeline-cli', brokers });
