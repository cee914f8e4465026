import { heartbeatAfter, type TimerHeartbeat, type TimerRun } from '../domain/operations';
import type { Logger } from './ports';
import type { Services } from './services';

/**
 * Records a timer's run in its heartbeat (docs/rules.md section 12), one write per run, and
 * logs it as one `timer run {...}` line. A heartbeat that cannot be written is logged, never
 * thrown: the timer's own outcome stands, and a missing heartbeat shows as a stale timer.
 */
export async function recordTimerRun(
  services: Services,
  logger: Logger,
  run: TimerRun,
): Promise<TimerHeartbeat | null> {
  const fields = {
    timerName: run.name,
    outcome: run.outcome,
    startedAt: run.startedAt.toISOString(),
    endedAt: run.endedAt.toISOString(),
    periodSeconds: run.periodSeconds,
    summary: run.summary,
  };
  if (run.outcome === 'succeeded') logger.info('timer run', fields);
  else logger.error('timer run', { ...fields, error: run.error });
  try {
    const previous = await services.operations.heartbeat(run.name);
    const heartbeat = heartbeatAfter(previous, run);
    await services.operations.save(heartbeat);
    return heartbeat;
  } catch (error) {
    logger.error('timer heartbeat not written', {
      timerName: run.name,
      reason: error instanceof Error ? error.message : String(error),
    });
    return null;
  }
}
