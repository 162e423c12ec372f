import type { TokenCredential } from '@azure/identity';
import type { KafkaConfig } from 'kafkajs';
import { eventHubsHost, eventHubsScope, oauthBearerProvider } from './entra-token';

export interface EventHubsKafka {
  config: KafkaConfig;
  /** The event hub a connection string names (EntityPath), if any. */
  entityPath?: string;
  /** What the connection authenticates as, for logs. */
  description: string;
}

const isConnectionString = (value: string) => /(^|;)\s*Endpoint\s*=\s*sb:\/\//i.test(value);

/**
 * Event Hubs' Kafka endpoint (port 9093, TLS). Given a namespace (`<name>` or its host name): SASL OAUTHBEARER with an
 * Entra token for `https://<host>/.default` from `credential`, which is what a namespace with local auth disabled (as
 * the Bicep deploys it) accepts. Given a connection string: SASL PLAIN with it as the password, which works only
 * where local (SAS) authentication is enabled.
 */
export function eventHubsKafka(target: string, credential: () => TokenCredential, clientId: string): EventHubsKafka {
  if (isConnectionString(target)) return connectionStringKafka(target, clientId);
  const host = eventHubsHost(target);
  return {
    config: {
      clientId,
      brokers: [`${host}:9093`],
      ssl: true,
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: oauthBearerProvider(credential(), eventHubsScope(host)) },
    },
    description: `Event Hubs ${host} (Entra ID, SASL OAUTHBEARER)`,
  };
}

function connectionStringKafka(connectionString: string, clientId: string): EventHubsKafka {
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
      clientId,
      brokers: [`${host}:9093`],
      ssl: true,
      sasl: { mechanism: 'plain', username: '$ConnectionString', password: connectionString },
    },
    entityPath: parts.entitypath,
    description: `Event Hubs ${host} (connection string, SASL PLAIN: needs local authentication enabled)`,
  };
}

/** Comma-separated brokers, plain TCP (a local or in-house cluster). */
export function plainKafka(brokers: string, clientId: string): KafkaConfig {
  const list = brokers.split(',').map((b) => b.trim()).filter(Boolean);
  if (!list.length) throw new Error('No Kafka brokers given.');
  return { clientId, brokers: list };
}
