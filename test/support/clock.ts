import type { Clock } from '../../shared/app/ports';

/** A clock the test moves by hand: time-dependent rules never read the real time. */
export class ManualClock implements Clock {
  private current: Date;

  constructor(start: string | Date = '2026-03-02T09:00:00.000Z') {
    this.current = new Date(start);
  }

  now(): Date {
    return new Date(this.current);
  }

  set(to: string | Date): void {
    this.current = new Date(to);
  }

  advance({
    days = 0,
    hours = 0,
    minutes = 0,
    seconds = 0,
  }: {
    days?: number;
    hours?: number;
    minutes?: number;
    seconds?: number;
  }): void {
    this.current = new Date(
      this.current.getTime() + (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000,
    );
  }
}
