import {
  emptyCounts,
  isEmptyChange,
  transitionCountsId,
  type CountChange,
  type TransitionCounts,
} from '../domain/transition-counts';
import { partnershipId } from '../domain/providers';
import { WriteConflict, type PartnerDocument, type PatchStep, type WriteOperation } from './ports';
import type { Services } from './services';

/** Cosmos DB takes at most 10 changes in one patch operation. */
const stepsPerPatch = 10;

function patches(id: string, steps: PatchStep[]): WriteOperation<PartnerDocument>[] {
  const operations: WriteOperation<PartnerDocument>[] = [];
  for (let start = 0; start < steps.length; start += stepsPerPatch) {
    operations.push({ op: 'patch', id, steps: steps.slice(start, start + stepsPerPatch) });
  }
  return operations;
}

/**
 * The write of a count change, to put in the batch of the change it counts (docs/rules.md
 * section 14): increments need no read and never conflict with another request's, so the batch
 * keeps its own guard and its own retries. Nothing when the change moves nothing.
 */
export function countsPatch(change: CountChange): WriteOperation<PartnerDocument>[] {
  // Stryker disable next-line ConditionalExpression: with no number moved and no moment the loops below push no step, and no step makes no patch
  if (isEmptyChange(change)) return [];
  const steps: PatchStep[] = [];
  if (change.providers) steps.push({ op: 'incr', path: '/providers', value: change.providers });
  for (const [name, value] of Object.entries(change.customers ?? {}))
    if (value) steps.push({ op: 'incr', path: `/customers/${name}`, value });
  for (const [name, value] of Object.entries(change.subscriptions ?? {}))
    if (value) steps.push({ op: 'incr', path: `/subscriptions/${name}`, value });
  for (const [name, value] of Object.entries(change.moments ?? {}))
    steps.push({ op: 'set', path: `/${name}`, value });
  return patches(transitionCountsId, steps);
}

/** What a provider sees of one reseller in its pipeline, kept on its side of the partnership. */
export interface PipelineChange {
  customersExtended?: number;
  transfersPending?: number;
  transfersCompleted?: number;
  at: string;
}

/** The write of a pipeline change, on the provider's side of the partnership with `resellerId`. */
export function pipelinePatch(
  resellerId: string,
  change: PipelineChange,
): WriteOperation<PartnerDocument>[] {
  const steps: PatchStep[] = [];
  for (const name of ['customersExtended', 'transfersPending', 'transfersCompleted'] as const) {
    const value = change[name];
    if (value) steps.push({ op: 'incr', path: `/${name}`, value });
  }
  steps.push({ op: 'set', path: '/lastActivityAt', value: change.at });
  return patches(partnershipId(resellerId), steps);
}

/** The partner's counts document, or null (a partner recorded before counts were kept). */
export async function readCounts(
  services: Services,
  partnerId: string,
): Promise<TransitionCounts | null> {
  const found = await services.partners.getDocument<TransitionCounts>(
    partnerId,
    transitionCountsId,
  );
  return found?.value.type === 'transition-counts' ? found.value : null;
}

/**
 * Commits a batch that patches counts. A patched document that is missing refuses the batch
 * whole (Azure, and the embedded emulator made atomic): the counts document of a partner
 * recorded before counts were kept is then created, counting from now, and the batch runs
 * again; a provider's side of a partnership that is missing loses its pipeline patch (the
 * pipeline shows what its document holds), and the batch runs again without it.
 */
export async function commitCounting(
  services: Services,
  partnerId: string,
  operations: WriteOperation<PartnerDocument>[],
): Promise<string | null> {
  let pending = operations;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await services.partners.commit(partnerId, pending);
    } catch (error) {
      // A patch reads nothing and carries no etag: the store refuses it only when its document
      // is missing (ports.ts). A batch needs at most two more tries (its counts created, its
      // pipeline patch dropped): a store that keeps refusing gets its refusal at the fourth.
      const refused = error instanceof WriteConflict ? pending[error.index] : undefined;
      if (refused?.op !== 'patch' || attempt === 3) throw error;
      if (refused.id === transitionCountsId) {
        await createCounts(services, partnerId);
      } else {
        pending = pending.filter((operation) => operation !== refused);
      }
    }
  }
}

async function createCounts(services: Services, partnerId: string): Promise<void> {
  try {
    await services.partners.commit(partnerId, [
      { op: 'create', document: emptyCounts(partnerId, services.clock.now()) },
    ]);
  } catch (error) {
    // A create is refused only when its document exists (ports.ts): another request created it.
    if (!(error instanceof WriteConflict)) throw error;
  }
}
