/**
 * Business days are Monday to Friday, counted in UTC (docs/rules.md section 2). A moment on a
 * weekend counts from the start of the next Monday.
 */
const dayMs = 24 * 3600 * 1000;

export function isBusinessDay(date: Date): boolean {
  const day = date.getUTCDay();
  return day !== 0 && day !== 6;
}

function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

/** The first business moment at or after `date`: itself on a weekday, else Monday 00:00. */
export function nextBusinessMoment(date: Date): Date {
  if (isBusinessDay(date)) return new Date(date);
  let day = startOfUtcDay(date);
  while (!isBusinessDay(day)) day = new Date(day.getTime() + dayMs);
  return day;
}

/** The same time of day `days` business days later (weekends skipped). */
export function addBusinessDays(start: Date, days: number): Date {
  let moment = nextBusinessMoment(start);
  for (let added = 0; added < days;) {
    moment = new Date(moment.getTime() + dayMs);
    if (isBusinessDay(moment)) added += 1;
  }
  return moment;
}

/** True once more than `days` business days have passed since `since`. */
export function isPendingBeyond(since: Date, now: Date, days: number): boolean {
  return now.getTime() > addBusinessDays(since, days).getTime();
}
