import type { InvocationContext } from '@azure/functions';
import { withinInvocation } from '../app/invocation';

/**
 * Runs one invocation with its Cosmos deadline and logs the request units its Cosmos calls
 * used (the sum of their x-ms-request-charge), so RU budgets can be checked on a real account:
 * in Application Insights, `traces | where message startswith "cosmos request charge"`.
 */
export async function measured<T>(
  context: InvocationContext,
  deadlineMs: number,
  work: () => Promise<T>,
): Promise<T> {
  const { result, requestCharge } = await withinInvocation(deadlineMs, work);
  if (requestCharge > 0) {
    context.log(
      `cosmos request charge ${JSON.stringify({
        functionName: context.functionName,
        requestCharge: Math.round(requestCharge * 100) / 100,
      })}`,
    );
  }
  return result;
}
