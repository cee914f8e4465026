import type {
  CustomerRepository,
  Page,
  PageRequest,
  Versioned,
  WriteOperation,
} from '../../app/ports';
import { noteEventsToRelay } from '../../app/event-scope';
import type { Customer, CustomerDocument } from '../../domain/customers';
import type { RelayedEventDocument } from '../../domain/events';
import { queryPartitionPage, readOne, type ScopedContainer, writeInPartition } from './operations';
import { customerQueries } from './queries';

/** The customers container: one partition per customer tenant (containers.json). */
export class CosmosCustomerRepository implements CustomerRepository {
  constructor(private readonly container: ScopedContainer) {}

  async get(customerId: string): Promise<Versioned<Customer> | null> {
    const found = await this.getDocument<Customer>(customerId, customerId);
    return found && found.value.type === 'customer' ? found : null;
  }

  async getDocument<T extends CustomerDocument>(
    customerId: string,
    id: string,
  ): Promise<Versioned<T> | null> {
    const found = await readOne<T>(this.container, id, customerId);
    return found && found.value.customerId === customerId ? found : null;
  }

  commit(
    customerId: string,
    operations: WriteOperation<CustomerDocument | RelayedEventDocument>[],
  ): Promise<(string | null)[]> {
    if (operations.some((o) => o.op === 'create' && o.document.type === 'event')) {
      noteEventsToRelay(this.container.invocation, customerId);
    }
    return writeInPartition(this.container, customerId, operations);
  }

  async listFor<T extends CustomerDocument>(
    customerId: string,
    type: T['type'],
    partnerId: string | null,
    page: PageRequest,
  ): Promise<Page<Versioned<T>>> {
    const result = await queryPartitionPage<T>(
      this.container,
      partnerId === null ? customerQueries.documents : customerQueries.documentsVisibleTo,
      [
        { name: '@type', value: type },
        ...(partnerId === null ? [] : [{ name: '@partnerId', value: partnerId }]),
      ],
      page,
      customerId,
    );
    return result;
  }
}
