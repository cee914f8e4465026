import { deliveryDocumentId } from '../../shared/domain/webhooks';
import { gate, override, startSecondHost, type TestApp } from './app';

/**
 * A second host of `app` whose next read of `documentId` (a partner's document, or a delivery in
 * the events container, read by webhook and event) waits, after it, for the test to release it.
 */
export async function holdingHost(app: TestApp, documentId: string) {
  const held = gate();
  let armed = true;
  const host = await startSecondHost(app, (services) => ({
    ...services,
    partners: override(services.partners, {
      getDocument: (async (partition: string, id: string) => {
        const found = await services.partners.getDocument(partition, id);
        if (armed && id === documentId) {
          armed = false;
          await held.hold();
        }
        return found;
      }) as typeof services.partners.getDocument,
    }),
    events: override(services.events, {
      delivery: async (webhookId: string, eventId: string) => {
        const found = await services.events.delivery(webhookId, eventId);
        if (armed && deliveryDocumentId(webhookId, eventId) === documentId) {
          armed = false;
          await held.hold();
        }
        return found;
      },
    }),
  }));
  return { host, held };
}
