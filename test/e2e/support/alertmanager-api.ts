import { Answer, json, request } from './http';

/** Posts one firing alert labelled `e2e_id=<id>`; resolves with the answer. */
export async function postAlert(baseUrl: string, id: string): Promise<Answer> {
  const now = Date.now();
  const body = JSON.stringify([{
    labels: { alertname: 'E2eProbe', severity: 'none', e2e_id: id },
    annotations: { summary: `probe ${id} sent by the end-to-end tests` },
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
  }]);
  return request(`${baseUrl}/api/v2/alerts`, {
    method: 'POST', body, headers: { 'Content-Type': 'application/json' },
  });
}

/** Posts a silence for `e2e_id=<id>`; resolves with the answer (its body holds `silenceID`). */
export async function postSilence(baseUrl: string, id: string): Promise<Answer> {
  const now = Date.now();
  const body = JSON.stringify({
    matchers: [{ name: 'e2e_id', value: id, isRegex: false, isEqual: true }],
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    createdBy: 'e2e',
    comment: `silence ${id} sent by the end-to-end tests`,
  });
  return request(`${baseUrl}/api/v2/silences`, {
    method: 'POST', body, headers: { 'Content-Type': 'application/json' },
  });
}

/** The `e2e_id` labels of the alerts in a `GET /api/v2/alerts` answer. */
export function alertIds(answer: Answer): string[] {
  if (answer.status !== 200) {
    throw new Error(`GET /api/v2/alerts answered ${answer.status}: ${answer.body.toString('utf-8').slice(0, 200)}`);
  }
  return (json(answer) as any[]).map((alert) => alert.labels?.e2e_id).filter((id) => id !== undefined);
}

/** Alert ids Alertmanager itself lists, asked on its own port. */
export async function alertIdsAt(baseUrl: string): Promise<string[]> {
  return alertIds(await request(`${baseUrl}/api/v2/alerts`));
}

/** Silence ids Alertmanager itself lists, asked on its own port. */
export async function silenceIdsAt(baseUrl: string): Promise<string[]> {
  const answer = await request(`${baseUrl}/api/v2/silences`);
  return (json(answer) as any[]).map((silence) => silence.id);
}
