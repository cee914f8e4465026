import type { TransitionReportRepository } from '../../app/ports';
import {
  transitionReportPartition,
  type TransitionDay,
  type TransitionEntry,
} from '../../domain/transition-report';
import { allOf } from './partner-repository';
import { queryPartitionPage, type ScopedContainer } from './operations';
import { partnerQueries } from './queries';

/** The operators' transition report: its own partition of the partners container. */
export class CosmosTransitionReportRepository implements TransitionReportRepository {
  constructor(private readonly container: ScopedContainer) {}

  transitionDays(from: string, to: string): Promise<TransitionDay[]> {
    return allOf<TransitionDay>(
      this.container,
      partnerQueries.transitionDays,
      [
        { name: '@from', value: from },
        { name: '@to', value: to },
      ],
      transitionReportPartition,
    );
  }

  async stuckSince(cutoff: Date, limit: number): Promise<TransitionEntry[]> {
    const entries: TransitionEntry[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await queryPartitionPage<TransitionEntry>(
        this.container,
        partnerQueries.stuckTransitions,
        [{ name: '@cutoff', value: cutoff.toISOString() }],
        { pageSize: limit - entries.length, continuationToken },
        transitionReportPartition,
      );
      entries.push(...page.items.map((item) => item.value));
      continuationToken = page.continuationToken ?? undefined;
    } while (continuationToken !== undefined && entries.length < limit);
    return entries;
  }
}
