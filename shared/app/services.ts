import type { Config } from '../config';
import type {
  Clock,
  CustomerRepository,
  EmailSender,
  EventRepository,
  IdempotencyStore,
  IdGenerator,
  OutboxRepository,
  PartnerRepository,
  TokenVerifier,
  WebhookTransport,
} from './ports';
import type { RequestLimits } from './request-limits';

/** Everything a handler or use case may use, built once per process by the composition root. */
export interface Services {
  config: Config;
  clock: Clock;
  ids: IdGenerator;
  tokens: TokenVerifier;
  partners: PartnerRepository;
  customers: CustomerRepository;
  outbox: OutboxRepository;
  events: EventRepository;
  webhooks: WebhookTransport;
  /** Answers to POST requests by Idempotency-Key, replayed on a retry. */
  idempotency: IdempotencyStore;
  emailSender: EmailSender;
  /** Server-held secrets: the one idempotent answers are sealed with (IDEMPOTENCY_SECRET). */
  secrets: { idempotency: Buffer };
  /** Per-tenant and per-client request rate limits (token buckets in this process). */
  limits: RequestLimits;
  /** True when Cosmos answers (GET /api/health); cached for a while (app/health.ts). */
  pingCosmos(): Promise<boolean>;
  /** Tests check every JSON answer against its declared schema. */
  checkResponses: boolean;
}
