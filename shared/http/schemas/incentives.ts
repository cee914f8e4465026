import * as z from 'zod';
import { incentivePrograms, incentiveStatuses } from '../../domain/incentives';
import { isoTimestamp } from './common';

export const incentiveProgramParams = z.object({ program: z.enum(incentivePrograms) });

/** One program as docs/api.md GET /api/me/incentives lists it, plus whether enrolling is open. */
export const incentiveView = z
  .object({
    program: z.enum(incentivePrograms),
    status: z.enum(incentiveStatuses),
    invitedAt: isoTimestamp.optional(),
    enrolledAt: isoTimestamp.optional(),
    canEnroll: z
      .boolean()
      .describe('The partner may enroll in this program now (a global admin does it)'),
  })
  .meta({ id: 'Incentive', description: 'An incentive program and where the partner stands' });

export const incentivesView = z.array(incentiveView);
