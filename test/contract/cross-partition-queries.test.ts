import { describe, expect, it } from 'vitest';
import { declaredQueries } from '../../shared/adapters/cosmos/queries';
import { observationsDirVariable, readRangeQueries } from '../support/contract-observations';
import { standInRanges } from '../support/ranges';

/**
 * On an Azure account past 50 GB (or 10,000 RU/s) a container has several physical partitions,
 * and the SDK sends a cross-partition query to each and merges what they answer: its ORDER BY
 * merge throws on a null, its aggregates add up partial results. The suite's stand-in shows two
 * partition key ranges and records each query a range ran (test/support/global-setup.ts). This
 * file runs after every other one and shows that the suite sent each cross-partition query the
 * app declares to every range, so none of them reaches Azure's multi-range path untried.
 */
describe('the cross-partition queries the app declares', () => {
  it('were each sent by the suite to every partition key range of the stand-in, through the SDK', () => {
    const dir = process.env[observationsDirVariable];
    if (!dir) {
      throw new Error(
        'This check reads what the whole suite saw: run it with the other tests (npm test, or npx vitest run).',
      );
    }
    const sent = readRangeQueries(dir);
    if (!sent) {
      throw new Error(
        'No stand-in recorded the queries its ranges ran: this check needs the embedded emulator (npm test without COSMOS_ENDPOINT).',
      );
    }
    const everyRange = standInRanges.map((range) => range.id);
    expect(everyRange.length).toBeGreaterThanOrEqual(2);
    const notEverywhere = declaredQueries
      .filter((query) => query.scope === 'cross-partition')
      .map((query) => ({ name: query.name, ranges: [...(sent.get(query.text) ?? [])].sort() }))
      .filter(({ ranges }) => ranges.join() !== everyRange.join());
    expect(notEverywhere).toEqual([]);
  });
});
