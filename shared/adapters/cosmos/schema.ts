import type { ContainerDefinition, CosmosClient, Database } from '@azure/cosmos';
import definition from './containers.json';

/**
 * The database and its containers, declared once in containers.json: the code creates them
 * from it when missing and infra/modules/cosmos.bicep reads the same file (loadJsonContent).
 */
export type ContainerName = (typeof definition.containers)[number]['id'];

export const containerDefinitions = definition.containers;
export const defaultDatabaseName = definition.database;

export function toContainerDefinition(
  container: (typeof definition.containers)[number],
): ContainerDefinition {
  return {
    id: container.id,
    partitionKey: { paths: [container.partitionKey], kind: 'Hash' as never, version: 2 },
    defaultTtl: container.defaultTtl,
    indexingPolicy: container.indexingPolicy as ContainerDefinition['indexingPolicy'],
    uniqueKeyPolicy: { uniqueKeys: container.uniqueKeys as { paths: string[] }[] },
  };
}

/** Creates the database and every container when missing; leaves existing ones as they are. */
export async function ensureDatabase(
  client: CosmosClient,
  databaseName: string,
): Promise<Database> {
  const { database } = await client.databases.createIfNotExists({ id: databaseName });
  for (const container of containerDefinitions) {
    await database.containers.createIfNotExists(toContainerDefinition(container));
  }
  return database;
}
