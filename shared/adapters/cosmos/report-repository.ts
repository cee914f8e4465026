import type { Container } from '@azure/cosmos';
import type { TransitionReportRepository } from '../../app/ports';
import {
  transitionReportPartition,
  type TransitionDay,
  type TransitionEntry,
} from '../../domain/transition-report';
import { allOf } from './partner-repository';
import { partnerQueries } from './queries';

/** The operators' transition report: its own partition of the partners container. */
export class CosmosTransitionReportRepository implements TransitionReportRepository {
  constructor(private readonly container: Container) {}

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

  stuckSince(cutoff: Date): Promise<TransitionEntry[]> {
    return allOf<TransitionEntry>(
      this.container,
      partnerQueries.stuckTransitions,
      [{ name: '@cutoff', value: cutoff.toISOString() }],
      transitionReportPartition,
    );
  }
}
