/**
 * What the generated types refuse: each line below must be a compile error (tsc reports an
 * unused `@ts-expect-error` otherwise, and test/integration/typed-client.test.ts fails). Never
 * run.
 */
import type { Api, RequestBody, Transfer } from './journey';
import { header } from './journey';

export async function refused(api: Api, response: Response, transfer: Transfer): Promise<void> {
  const result = await api.GET('/api/me/transfers/{transferId}', {
    params: { path: { transferId: transfer.transferId } },
  });
  // A misspelt error code: the operation does not answer it.
  // @ts-expect-error not-foundd is no code of this operation
  if (result.error?.code === 'not-foundd') return;
  // A code of the catalogue that this operation cannot answer.
  // @ts-expect-error transfer-in-progress is not answered by a read
  if (result.error?.code === 'transfer-in-progress') return;
  // A misspelt field of a body typed as the operation's (bodies are closed; openapi-fetch's
  // inference does not check extra fields of an inline literal, and the app answers them 400).
  const profile: RequestBody<'/api/me/profile', 'put'> = {
    companyName: 'Contoso',
    mpnId: '1234567',
    address: { line1: '1 rue', city: 'Paris', postalCode: '75002', country: 'FR' },
    primaryContact: { firstName: 'P', lastName: 'L', email: 'p@c.example', phone: '+33 1' },
    // @ts-expect-error preferedLanguage is no field of the profile
    preferedLanguage: 'en',
  };
  await api.PUT('/api/me/profile', { body: profile });
  // A query parameter the route does not take.
  // @ts-expect-error the event feed has no pageToken
  await api.GET('/api/me/events', { params: { query: { pageToken: 'x' } } });
  // A header an answer does not declare.
  // @ts-expect-error GET /api/me/transfers/{transferId} sends no ETag
  header(response, { path: '/api/me/transfers/{transferId}', method: 'get', status: 200 }, 'ETag');
  // A status a resource does not have.
  // @ts-expect-error a transfer is never "accepted": completed says it
  if (transfer.status === 'accepted') return;
}
