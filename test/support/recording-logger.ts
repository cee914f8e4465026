import type { Logger } from '../../shared/app/ports';

/** A line a use case logged: its level, its text and its fields. */
export interface Line {
  level: 'info' | 'warn' | 'error';
  message: string;
  properties?: Record<string, unknown>;
}

/** A logger that keeps every line, for a test to read what the operators would see. */
export function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  return {
    lines,
    info: (message, properties) => lines.push({ level: 'info', message, properties }),
    warn: (message, properties) => lines.push({ level: 'warn', message, properties }),
    error: (message, properties) => lines.push({ level: 'error', message, properties }),
  };
}
