import { emptyCounts } from '../domain/transition-counts';
import { transitionOf } from '../domain/transition';
import {
  dayOf,
  emptyDay,
  entryFor,
  milestonesOf,
  sameEntry,
  summarize,
  transitionDayId,
  transitionEntryId,
  stuckListLimit,
  transitionReportPartition,
  type Milestone,
  type ReportSummary,
  type TransitionEntry,
} from '../domain/transition-report';
import type { TransitionStep } from '../domain/transition';
import { readCounts } from './transition-counts';
import { WriteConflict, type PartnerDocument, type PatchStep, type WriteOperation } from './ports';
import type { Services } from './services';

/** Attempts of one recording against concurrent ones (another host publishing the partner). */
const attempts = 5;

/** The day documents' patches for the milestones newly reached. */
function dayPatches(milestones: readonly Milestone[]): WriteOperation<PartnerDocument>[] {
  const byDay = new Map<string, PatchStep[]>();
  for (const milestone of milestones) {
    const steps = byDay.get(dayOf(milestone.at)) ?? [];
    if (milestone.stage) steps.push({ op: 'incr', path: `/funnel/${milestone.stage}`, value: 1 });
    if (milestone.pastReviewWindow) steps.push({ op: 'incr', path: '/pastReviewWindow', value: 1 });
    if (milestone.approvalHours !== undefined)
      steps.push({ op: 'add', path: '/approvalHours/-', value: milestone.approvalHours });
    byDay.set(dayOf(milestone.at), steps);
  }
  return [...byDay].flatMap(([day, steps]) => {
    const operations: WriteOperation<PartnerDocument>[] = [];
    for (let start = 0; start < steps.length; start += 10)
      operations.push({
        op: 'patch',
        id: transitionDayId(day),
        // Stryker disable next-line MethodExpression: one recording brings a day at most 10 steps (submitted, rejected, approved after review with its hours and the six stages after it: an escalation comes a day or more after any submission), so the slice is all the steps until a milestone is added
        steps: steps.slice(start, start + 10),
      });
    return operations;
  });
}

async function createDay(services: Services, id: string): Promise<void> {
  try {
    await services.partners.commit(transitionReportPartition, [
      { op: 'create', document: emptyDay(id.slice(transitionDayId('').length)) },
    ]);
  } catch (error) {
    // A create is refused only when its document exists (ports.ts): another recording created it.
    if (!(error instanceof WriteConflict)) throw error;
  }
}

/**
 * Brings the partner's report entry and the days in step with its record and counts (docs/rules.md
 * section 14): each milestone it reached and the entry has not counted yet is counted on its
 * day, in one batch with the entry that records it as counted, so a milestone counts once
 * however often this runs, and a crash anywhere leaves it to the next run. The event publisher
 * runs it before it numbers the partner's events: a change's milestone is counted before its
 * event is published, and an interrupted publication counts it on its next attempt.
 */
export async function recordTransition(services: Services, partnerId: string): Promise<void> {
  let conflicts = 0;
  let daysCreated = 0;
  for (;;) {
    const partner = await services.partners.get(partnerId);
    // Not a partner (the operators' partition), or one that has not started: no entry.
    if (!partner || partner.value.enrollment.history.length === 0) return;
    const [counts, entry] = await Promise.all([
      readCounts(services, partnerId),
      services.partners.getDocument<TransitionEntry>(
        transitionReportPartition,
        transitionEntryId(partnerId),
      ),
    ]);
    const now = services.clock.now();
    const recorded = new Set(entry?.value.recorded ?? []);
    const fresh = milestonesOf(partner.value, counts).filter((item) => !recorded.has(item.key));
    const transition = transitionOf(partner.value, counts ?? emptyCounts(partnerId, now), now, {
      reviewBusinessDays: services.config.enrollment.escalationBusinessDays,
    });
    const next = entryFor(
      partner.value,
      transition,
      [...recorded, ...fresh.map((item) => item.key)],
      now,
    );
    // Stryker disable next-line ConditionalExpression: with fresh milestones next.recorded is longer than the entry's (its keys, never written twice, and the fresh ones), so sameEntry is false anyway
    if (entry && fresh.length === 0 && sameEntry(entry.value, next)) return;
    const operations: WriteOperation<PartnerDocument>[] = [
      entry
        ? { op: 'replace', document: next, etag: entry.etag }
        : { op: 'create', document: next },
      ...dayPatches(fresh),
    ];
    try {
      await services.partners.commit(transitionReportPartition, operations);
      return;
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      const refused = operations[error.index];
      // The first milestone of a day: its document is created, then the batch runs again.
      if (
        // Stryker disable next-line ConditionalExpression: a patch has no etag and creates nothing, so it is refused only as missing (ports.ts; conflictFor in adapters/cosmos/operations.ts)
        error.reason === 'missing' &&
        refused?.op === 'patch' &&
        daysCreated < operations.length
      ) {
        await createDay(services, refused.id);
        daysCreated += 1;
        continue;
      }
      // Otherwise another recording of the partner got there first: read again.
      conflicts += 1;
      if (conflicts >= attempts) {
        throw new Error(
          `the transition report of ${partnerId} kept changing while it was recorded`,
          { cause: error },
        );
      }
    }
  }
}

export interface StuckPartner {
  partnerId: string;
  companyName: string;
  step: TransitionStep;
  since: string;
}

export interface TransitionReport extends ReportSummary {
  from: string;
  to: string;
  stuck: StuckPartner[];
}

/** An entry naming its step and since when (the type the stuck list needs). */
function isAtAStep(
  entry: TransitionEntry,
): entry is TransitionEntry & { step: TransitionStep; since: string } {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: stuckSince reads only entries with a since, and entryFor sets since only with a step
  return Boolean(entry.step && entry.since);
}

/**
 * GET /api/operator/reports/transitions: the days of the period (at most 366 documents) and the
 * partners at one step since before the stuck cutoff, each one single-partition query of the
 * report's partition, whatever the number of partners (docs/capacity.md).
 */
export async function transitionReport(
  services: Services,
  from: string,
  to: string,
): Promise<TransitionReport> {
  const now = services.clock.now();
  const cutoff = new Date(now.getTime() - services.config.transition.stuckDays * 86_400_000);
  const [days, stuck] = await Promise.all([
    services.reports.transitionDays(from, to),
    services.reports.stuckSince(cutoff, stuckListLimit),
  ]);
  // Stryker disable next-line MethodExpression: the query reads only entries with a since, which entryFor sets only with a step
  const atAStep = stuck.filter(isAtAStep);
  return {
    from,
    to,
    ...summarize(days),
    stuck: atAStep
      .sort((a, b) => a.since.localeCompare(b.since) || a.subjectId.localeCompare(b.subjectId))
      .map((entry) => ({
        partnerId: entry.subjectId,
        companyName: entry.companyName,
        step: entry.step,
        since: entry.since,
      })),
  };
}
