import {
  effectivePartitionKey,
  partitionKeyRanges,
  type PartitionKeyRange,
} from '../../shared/local/partition-ranges';

/** The partition key ranges the tests' stand-in shows (global-setup: the default, two). */
export const standInRanges: PartitionKeyRange[] = partitionKeyRanges(2);

/** The range of the stand-in a partition key value lives in (hash v2, as containers.json sets). */
export function rangeOf(partitionKey: string): string {
  const key = effectivePartitionKey(partitionKey, { paths: ['/pk'], kind: 'Hash', version: 2 });
  return standInRanges.find((range) => range.minInclusive <= key && key < range.maxExclusive)!.id;
}
