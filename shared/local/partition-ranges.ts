import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * Physical partitions as Azure Cosmos DB shows them to the SDK: partition key ranges, each a
 * slice of the effective partition key space. A document lives in the range its effective
 * partition key falls in: the hash of its partition key value, here with the SDK's own hashing
 * (@azure/cosmos utils/hashing: MurmurHash3 for hash v2 keys, the version containers.json sets),
 * as the SDK computes it to route a point operation.
 */
export interface PartitionKeyRange {
  id: string;
  minInclusive: string;
  maxExclusive: string;
}

export interface PartitionKeyDefinition {
  paths: string[];
  kind?: string;
  version?: number;
}

/** A hash v2 effective partition key has 32 hex digits, the first byte below 0x40. */
const keySpace = 1n << 126n;

/** `count` ranges splitting the key space evenly, as a container created that wide has. */
export function partitionKeyRanges(count: number): PartitionKeyRange[] {
  if (!Number.isInteger(count) || count < 1) throw new Error('at least one range');
  const bounds = Array.from({ length: count - 1 }, (_, index) =>
    ((keySpace * BigInt(index + 1)) / BigInt(count)).toString(16).toUpperCase().padStart(32, '0'),
  );
  const edges = ['', ...bounds, 'FF'];
  return Array.from({ length: count }, (_, index) => ({
    id: String(index),
    minInclusive: edges[index]!,
    maxExclusive: edges[index + 1]!,
  }));
}

type Hash = (key: unknown[], definition: PartitionKeyDefinition) => string;
let sdkHash: Hash | undefined;

/** The SDK's hashPartitionKey (not exported by the package: required from its files). */
function hash(): Hash {
  if (!sdkHash) {
    // Resolved from the emulator's place (a dev dependency, outside the bundles): the same
    // @azure/cosmos the app runs, found in the project's node_modules.
    const sdk = path.dirname(
      createRequire(require.resolve('@vercel/cosmosdb-server')).resolve('@azure/cosmos'),
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sdkHash = (require(path.join(sdk, 'utils', 'hashing', 'hash.js')) as { hashPartitionKey: Hash })
      .hashPartitionKey;
  }
  return sdkHash;
}

/** The document's partition key value (undefined when it has none). */
export function partitionKeyOf(document: unknown, definition: PartitionKeyDefinition): unknown {
  const keyPath = definition.paths[0] ?? '/id';
  let value: unknown = document;
  for (const step of keyPath.slice(1).split('/')) {
    value = (value as Record<string, unknown> | undefined)?.[step];
  }
  return value;
}

const effectiveKeys = new Map<string, string>();

/** The effective partition key of a partition key value (cached: the hash is not free). */
export function effectivePartitionKey(value: unknown, definition: PartitionKeyDefinition): string {
  const cacheKey = `${definition.version ?? 1}:${JSON.stringify(value ?? null)}`;
  let key = effectiveKeys.get(cacheKey);
  if (key === undefined) {
    key = hash()([value === undefined ? null : value], definition);
    if (effectiveKeys.size > 200_000) effectiveKeys.clear();
    effectiveKeys.set(cacheKey, key);
  }
  return key;
}
