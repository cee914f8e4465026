import type { Config } from '../config';
import type { Invocation } from './invocation';
import type { OperationsDocument } from '../domain/operations';
import type {
  Clock,
  CustomerRepository,
  EmailSender,
  EventRepository,
  IdempotencyStore,
  IdGenerator,
  OperationsRepository,
  OutboxRepository,
  PartnerRepository,
  TokenVerifier,
  TransitionReportRepository,
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
  /** The operators' transition report (its own partition of the partners container). */
  reports: TransitionReportRepository;
  webhooks: WebhookTransport;
  /** Timer heartbeats and outbox backlogs (the status page, the health check). */
  operations: OperationsRepository;
  /** When this process started watching timers: one never run is stale three periods after. */
  startedAt: Date;
  /** Answers to POST requests by Idempotency-Key, replayed on a retry. */
  idempotency: IdempotencyStore;
  emailSender: EmailSender;
  /**
   * Server-held secrets: the one idempotent answers are sealed with (IDEMPOTENCY_SECRET), and the
   * one before its last rotation, under which answers stored before it are still found.
   */
  secrets: { idempotency: Buffer; previousIdempotency: Buffer | null };
  /** Per-tenant and per-client request rate limits (token buckets in this process). */
  limits: RequestLimits;
  /** True when Cosmos answers (GET /api/health); cached for a while (app/health.ts). */
  pingCosmos(): Promise<boolean>;
  /** The operations documents as GET /api/health sees them, cached the same way; null on failure. */
  operationsSnapshot(): Promise<OperationsDocument[] | null>;
  /** Tests check every JSON answer against its declared schema, and every problem's code. */
  checkResponses: boolean;
  /**
   * The same services with the repositories bound to one invocation: their Cosmos calls get its
   * deadline, add to its request charge and note the events it wrote (app/invocation.ts).
   */
  forInvocation(invocation: Invocation): Services;
  /** Tests: told of each problem an operation answers (test/contract reads them). */
  recordProblem?: (operationId: string, code: string) => void;
}
