import * as fs from 'fs';
import { Duration } from 'cdk8s';
import { describeWithAlertmanager } from '../support/nginx';
import { alertIds, alertIdsAt, postAlert, postSilence, silenceIdsAt } from './support/alertmanager-api';
import { Answer, decoded, fingerprint, getGzip, json, request, sleep } from './support/http';
import { filesBelow, startStack, Stack } from './support/stack';
import { PNG_PATH, STYLESHEET_PATH } from './support/ui-assets';

const CACHED_UI = ['/', '/script.js', STYLESHEET_PATH, '/favicon.ico', PNG_PATH];
const API = ['/api/v2/alerts', '/api/v2/silences', '/api/v2/alerts/groups', '/api/v2/status', '/api/v2/receivers'];
const PROBES = ['/-/healthy', '/-/ready'];
/** An error answer from nginx itself must come this fast: the app is in the same pod. */
const FAIL_FAST_MS = 250;
/** How soon after Alertmanager is back every path must answer fresh. */
const RECOVERY_MS = 2_000;

describeWithAlertmanager('while Alertmanager is down and after it restarts', () => {
  let stack: Stack;
  let silenceId: string;

  beforeAll(async () => {
    stack = await startStack({ apiMicroCache: Duration.seconds(1) });

    // a used pod: the UI is in the cache in both encodings, the API lists were read
    for (const urlPath of [...CACHED_UI, ...API]) {
      await getGzip(stack.nginxUrl + urlPath);
      await request(stack.nginxUrl + urlPath);
    }
    expect((await postAlert(stack.nginxUrl, 'before-outage')).status).toBe(200);
    silenceId = json(await postSilence(stack.nginxUrl, 'before-outage')).silenceID;
    await getGzip(`${stack.nginxUrl}/api/v2/alerts`);

    await stack.stopAlertmanager();
    // let every micro-cached answer expire: from here on only the UI is in the cache
    await sleep(2_100);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  test('the cached UI is still served, whole, in both encodings', async () => {
    expect(stack.alertmanager.exited).toBe(true);
    for (const urlPath of CACHED_UI) {
      for (const answer of [await getGzip(stack.nginxUrl + urlPath), await request(stack.nginxUrl + urlPath)]) {
        expect([urlPath, answer.status, answer.headers['x-proxy-cache']]).toEqual([urlPath, 200, 'HIT']);
        expect(fingerprint(decoded(answer))).toBe(fingerprint(stack.ui.files.get(urlPath)));
      }
    }
  });

  test(`API calls and probes fail fast with 502 (under ${FAIL_FAST_MS} ms), reads and writes alike`, async () => {
    const answers: Array<[string, Answer]> = [];
    for (const urlPath of [...API, ...PROBES]) {
      answers.push([urlPath, await getGzip(stack.nginxUrl + urlPath)]);
    }
    answers.push(['POST /api/v2/alerts', await postAlert(stack.nginxUrl, 'during-outage')]);
    answers.push(['POST /api/v2/silences', await postSilence(stack.nginxUrl, 'during-outage')]);

    for (const [what, answer] of answers) {
      expect([what, answer.status]).toEqual([what, 502]);
      // not an old list passed off as current
      expect([what, answer.headers['x-proxy-cache']]).not.toEqual([what, 'STALE']);
    }
    const slow = answers.filter(([, answer]) => answer.ms >= FAIL_FAST_MS).map(([what, answer]) => `${what}: ${answer.ms} ms`);
    expect(slow).toEqual([]);
  });

  test('nginx answers its health path', async () => {
    const answer = await request(`${stack.nginxUrl}/nginx-health`);

    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(FAIL_FAST_MS);
  });

  test(`after a restart every path answers fresh within ${RECOVERY_MS} ms, and no error answer was cached`, async () => {
    await stack.restartAlertmanager();
    const ready = Date.now();

    // the first answer of each path once Alertmanager is ready: a cached 502 would show here
    const first: Array<[string, Answer]> = [];
    for (const urlPath of [...API, ...PROBES, ...CACHED_UI]) {
      first.push([urlPath, await getGzip(stack.nginxUrl + urlPath)]);
    }
    const recoveredMs = Date.now() - ready;

    expect(first.map(([urlPath, answer]) => [urlPath, answer.status])).toEqual(first.map(([urlPath]) => [urlPath, 200]));
    expect(recoveredMs).toBeLessThan(RECOVERY_MS);
    // alerts live in memory and died with the process; silences were saved to storage
    const direct = await alertIdsAt(stack.alertmanagerUrl);
    expect(direct).not.toContain('before-outage');
    expect(alertIds(first[0][1])).toEqual(direct);
    expect(await silenceIdsAt(stack.alertmanagerUrl)).toContain(silenceId);
    expect((json(first[1][1]) as any[]).map((s) => s.id)).toContain(silenceId);

    // nothing in the cache holds an error: each entry's stored status line is 200
    const statusLines = filesBelow(stack.cacheDir).map((file) => /\nHTTP\/1\.[01] (\d{3})/.exec(fs.readFileSync(file, 'latin1'))?.[1]);
    expect(statusLines.length).toBeGreaterThan(CACHED_UI.length);
    expect(new Set(statusLines)).toEqual(new Set(['200']));

    // and writes go through again
    expect((await postAlert(stack.nginxUrl, 'after-outage')).status).toBe(200);
    expect(await alertIdsAt(stack.alertmanagerUrl)).toContain('after-outage');
  });
});
