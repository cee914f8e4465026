import type { Container, JSONObject, OperationInput } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { partnerDocument } from '../../shared/adapters/cosmos/partner-repository';
import { enrollmentApprovedEmail } from '../../shared/app/emails/enrollment-emails';
import { relationshipFor, type CustomerRelationship } from '../../shared/domain/customers';
import { queuedEmail, settledEmail, type OutboxEmail } from '../../shared/domain/email';
import { newPartner, type Partner } from '../../shared/domain/partner';

/** Runs `work` over `items`, `concurrency` at a time. */
export async function inPool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  });
  await Promise.all(workers);
}

/** Writes documents of one partition in transactional batches of 100 (the service's limit). */
async function createInBatches(
  container: Container,
  partitionKey: string,
  documents: object[],
): Promise<void> {
  for (let start = 0; start < documents.length; start += 100) {
    const operations: OperationInput[] = documents.slice(start, start + 100).map((document) => ({
      operationType: 'Create',
      partitionKey,
      resourceBody: document as JSONObject,
    }));
    const response = await container.items.batch(operations, partitionKey);
    const failed = (response.result ?? []).find((result) => result.statusCode >= 400);
    if (failed) throw new Error(`seeding ${partitionKey} failed with ${failed.statusCode}`);
  }
}

const words = ['Northwind', 'Contoso', 'Fabrikam', 'Adatum', 'Tailspin', 'Litware', 'Proseware'];
const trades = ['Traders', 'Health', 'Logistics', 'Studios', 'Foods', 'Energy', 'Bank'];

/** A company name that sorts apart from its neighbours, deterministic by index. */
export function companyName(index: number): string {
  return `${words[index % words.length]} ${trades[(index * 3) % trades.length]} ${String(
    (index * 7919) % 100_003,
  ).padStart(5, '0')}`;
}

function benchPartner(partnerId: string, index: number, now: Date): Partner {
  const record = {
    companyName: companyName(index),
    mpnId: String(2_000_000 + index),
    mpnVerified: true,
    mpnAccountEmail: `mpn-${index}@partner.example`,
    country: 'US',
    programs: { directBill: true },
  };
  return {
    ...newPartner(partnerId, record, now),
    profile: {
      companyName: record.companyName,
      mpnId: record.mpnId,
      address: { line1: '1 Main Street', city: 'Seattle', postalCode: '98052', country: 'US' },
      primaryContact: {
        firstName: 'Pat',
        lastName: 'Lee',
        email: `pat.lee-${index}@partner.example`,
        phone: '+1 425 555 0100',
      },
      confirmedAt: now.toISOString(),
      confirmedBy: randomUUID(),
    },
  };
}

/** Direct bill partners with a confirmed profile, distinct names and MPN IDs. */
export function benchPartners(count: number, now: Date): Partner[] {
  return Array.from({ length: count }, (_, index) => benchPartner(randomUUID(), index, now));
}

/** Partners written with the SDK, in parallel: one create each (each is its own partition). */
export async function seedPartners(container: Container, partners: Partner[]): Promise<void> {
  await inPool(partners, 64, (partner) => container.items.create(partnerDocument(partner)));
}

/**
 * The reseller's customers: customer-relationship documents in its partition, as the customers
 * routes (issue 5) write them: mostly its own direct-bill customers, every fifth one through
 * its provider.
 */
export async function seedCustomerRelationships(
  container: Container,
  reseller: { partnerId: string },
  provider: { partnerId: string; companyName: string },
  count: number,
  now: Date,
): Promise<void> {
  const relationships: CustomerRelationship[] = Array.from({ length: count }, (_, index) => {
    const customer = {
      customerId: randomUUID(),
      companyName: companyName(index + 50_000),
      domain: `customer-${index}.example`,
      country: 'US',
    };
    const indirect = index % 5 === 0;
    return relationshipFor(
      reseller.partnerId,
      customer,
      indirect ? 'indirect-reseller' : 'direct-bill',
      {
        acquiredAs: 'direct-bill',
        ...(indirect
          ? {
              indirectProvider: {
                partnerId: provider.partnerId,
                companyName: provider.companyName,
              },
            }
          : {}),
        delegatedAdmin: indirect,
        at: now.toISOString(),
        reason: 'seeded by the bench',
      },
    );
  });
  await createInBatches(container, reseller.partnerId, relationships);
}

/**
 * The outbox as deliverEmails finds it after a busy period: per partner, delivered emails
 * (status sent, no due date, bodies dropped) and pending ones due now, with a real body.
 */
export async function seedOutbox(
  container: Container,
  partners: readonly Partner[],
  delivered: number,
  pending: number,
  now: Date,
): Promise<void> {
  const perPartner = (total: number, index: number): number =>
    Math.floor(total / partners.length) + (index < total % partners.length ? 1 : 0);
  await inPool(partners, 16, async (partner, index) => {
    const message = enrollmentApprovedEmail(
      partner,
      { email: `pat.lee-${index}@partner.example`, firstName: 'Pat' },
      'en',
      'http://localhost:7071/api/links/enrollment',
    );
    const emails: OutboxEmail[] = [];
    for (let n = 0; n < perPartner(delivered, index); n += 1) {
      const sentAt = new Date(now.getTime() - (n + 1) * 60_000);
      emails.push(
        settledEmail(
          queuedEmail(randomUUID(), partner.partnerId, 'enrollment-approved', message, sentAt),
          'sent',
          sentAt,
          null,
        ),
      );
    }
    for (let n = 0; n < perPartner(pending, index); n += 1) {
      const queuedAt = new Date(now.getTime() - (n + 1) * 1000);
      emails.push(
        queuedEmail(randomUUID(), partner.partnerId, 'enrollment-approved', message, queuedAt),
      );
    }
    await createInBatches(container, partner.partnerId, emails);
  });
}
