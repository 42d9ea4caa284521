import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { StaticFile } from '../../src';
import { describeWithAlertmanager } from '../support/nginx';
import { makeTempDir } from '../support/processes';
import { alertIds, alertIdsAt, postAlert, postSilence, silenceIdsAt } from './support/alertmanager-api';
import { decoded, fingerprint, getGzip, json, request } from './support/http';
import { startLoad } from './support/load';
import { filesBelow, startStack, Stack } from './support/stack';
import { PNG_PATH, STYLESHEET_PATH } from './support/ui-assets';

// overrides of each kind: a string, a binary file as base64, and a text file read at synth time
// that is large enough to get a precompressed twin
const ROBOTS = 'User-agent: *\nDisallow: /\n';
const THEME_CSS = Array.from({ length: 120 }, (_, i) =>
  `.alert-group-${i} .badge{background-color:#${(0x1f2d3d + i * 2711).toString(16).slice(-6)};margin-left:${i % 7}px}`).join('\n');
const LOGO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64');

/** The UI's cacheable paths: the routes AlertmanagerWithProxy caches for 0.25 to 0.31. */
const CACHED_UI = ['/', '/script.js', STYLESHEET_PATH, '/favicon.ico', PNG_PATH];

describeWithAlertmanager('an Alertmanager pod with the nginx sidecar, from synthesized manifests', () => {
  /** With the API micro-cache, as most tests here want the riskier configuration. */
  let stack: Stack;
  /** AlertmanagerWithProxy's defaults. */
  let defaultStack: Stack;

  beforeAll(async () => {
    const themeFile = path.join(makeTempDir('overrides'), 'theme.css');
    fs.writeFileSync(themeFile, THEME_CSS);
    [stack, defaultStack] = await Promise.all([
      startStack({
        apiMicroCache: Duration.seconds(1),
        overrides: [
          StaticFile.fromString('/robots.txt', ROBOTS),
          StaticFile.fromBase64('/lib/logo.png', LOGO.toString('base64')),
          StaticFile.fromFile('/lib/theme.css', themeFile),
        ],
      }),
      startStack(),
    ]);
  });

  afterAll(async () => {
    await Promise.all([stack?.stop(), defaultStack?.stop()]);
  });

  // first in the file: the cache is still empty here
  test('cached routes are served from the cache on the second request, one entry per encoding', async () => {
    for (const urlPath of CACHED_UI) {
      for (const encoding of ['gzip', undefined]) {
        const headers: Record<string, string> = encoding ? { 'Accept-Encoding': encoding } : {};
        const first = await request(stack.nginxUrl + urlPath, { headers });
        const second = await request(stack.nginxUrl + urlPath, { headers });

        expect([urlPath, encoding, first.status, first.headers['x-proxy-cache']]).toEqual([urlPath, encoding, 200, 'MISS']);
        expect([urlPath, encoding, second.status, second.headers['x-proxy-cache']]).toEqual([urlPath, encoding, 200, 'HIT']);
        expect(fingerprint(decoded(second))).toBe(fingerprint(stack.ui.files.get(urlPath)));
      }
    }

    // nginx writes each entry's key into its file: scheme, host, URI and the encoding variant
    const keys = filesBelow(stack.cacheDir).map((file) => /\nKEY: ([^\n]*)\n/.exec(fs.readFileSync(file, 'latin1'))?.[1]);
    const host = new URL(stack.nginxUrl).host;
    const expected = CACHED_UI.flatMap((urlPath) => [`http${host}${urlPath}`, `http${host}${urlPath}gzip`]);
    expect(keys.sort()).toEqual(expected.sort());
  });

  test('without apiMicroCache, API answers and probes are never stored', async () => {
    const paths = ['/api/v2/alerts', '/api/v2/silences', '/api/v2/status', '/api/v2/receivers', '/-/healthy', '/-/ready'];
    for (const urlPath of paths) {
      await getGzip(defaultStack.nginxUrl + urlPath);
      const second = await getGzip(defaultStack.nginxUrl + urlPath);

      expect([urlPath, second.status]).toEqual([urlPath, 200]);
      expect([urlPath, second.headers['x-proxy-cache']]).not.toEqual([urlPath, 'HIT']);
    }
    expect(filesBelow(defaultStack.cacheDir)).toEqual([]);

    // so the very next read lists a new alert
    expect(alertIds(await request(`${defaultStack.nginxUrl}/api/v2/alerts`))).not.toContain('fresh');
    expect((await postAlert(defaultStack.nginxUrl, 'fresh')).status).toBe(200);
    expect(alertIds(await request(`${defaultStack.nginxUrl}/api/v2/alerts`))).toContain('fresh');
  });

  test('override files are served by nginx with their exact content', async () => {
    const overrides: Array<[string, Buffer, string]> = [
      ['/robots.txt', Buffer.from(ROBOTS), 'text/plain; charset=utf-8'],
      ['/lib/logo.png', LOGO, 'image/png'],
      ['/lib/theme.css', Buffer.from(THEME_CSS), 'text/css; charset=utf-8'],
    ];
    for (const [urlPath, content, contentType] of overrides) {
      const plain = await request(stack.nginxUrl + urlPath);
      const gzipped = await getGzip(stack.nginxUrl + urlPath);
      const direct = await request(stack.alertmanagerUrl + urlPath);

      expect([urlPath, plain.status, plain.headers['content-type']]).toEqual([urlPath, 200, contentType]);
      expect(fingerprint(plain.body)).toBe(fingerprint(content));
      expect(fingerprint(decoded(gzipped))).toBe(fingerprint(content));
      // nginx answered itself: no cache status, and Alertmanager has no such file
      expect(plain.headers['x-proxy-cache']).toBeUndefined();
      expect(direct.status).toBe(404);
    }
    // the large text file comes from its precompressed twin, the PNG is sent as it is
    const theme = await getGzip(`${stack.nginxUrl}/lib/theme.css`);
    expect(theme.headers['content-encoding']).toBe('gzip');
    expect(theme.headers['content-length']).toBeDefined();
    const logo = await getGzip(`${stack.nginxUrl}/lib/logo.png`);
    expect(logo.headers['content-encoding']).toBeUndefined();
  });

  test('everything else is proxied to Alertmanager unchanged', async () => {
    const paths = [
      ...CACHED_UI, '/api/v2/receivers', '/api/v2/silences', '/api/v2/alerts/groups',
      '/-/healthy', '/-/ready', '/no/such/page', '/lib/no-such-file.css',
    ];
    for (const urlPath of paths) {
      const viaNginx = await getGzip(stack.nginxUrl + urlPath);
      const direct = await request(stack.alertmanagerUrl + urlPath);

      expect([urlPath, viaNginx.status]).toEqual([urlPath, direct.status]);
      expect([urlPath, viaNginx.headers['content-type']]).toEqual([urlPath, direct.headers['content-type']]);
      expect(fingerprint(decoded(viaNginx))).toBe(fingerprint(direct.body));
    }
  });

  test('text is sent gzip-compressed with Vary: Accept-Encoding, images are not', async () => {
    // enough alerts to put the JSON list above gzip_min_length (1 KiB)
    await Promise.all(Array.from({ length: 12 }, (_, i) => postAlert(stack.nginxUrl, `gzip-${i}`)));
    const texts = ['/', '/script.js', STYLESHEET_PATH, '/api/v2/alerts'];
    for (const urlPath of texts) {
      const gzipped = await getGzip(stack.nginxUrl + urlPath);
      const plain = await request(stack.nginxUrl + urlPath);

      expect([urlPath, gzipped.status, gzipped.headers['content-encoding']]).toEqual([urlPath, 200, 'gzip']);
      expect([urlPath, gzipped.headers.vary]).toEqual([urlPath, expect.stringMatching(/Accept-Encoding/)]);
      expect([urlPath, plain.headers['content-encoding']]).toEqual([urlPath, undefined]);
      expect(fingerprint(decoded(gzipped))).toBe(fingerprint(plain.body));
      expect(gzipped.body.length).toBeLessThan(plain.body.length / 2);
    }
    expect(alertIds(await getGzip(`${stack.nginxUrl}/api/v2/alerts`))).toEqual(expect.arrayContaining(['gzip-0', 'gzip-11']));

    for (const urlPath of ['/favicon.ico', PNG_PATH]) {
      const answer = await getGzip(stack.nginxUrl + urlPath);

      expect([urlPath, answer.status, answer.headers['content-encoding']]).toEqual([urlPath, 200, undefined]);
      expect(fingerprint(answer.body)).toBe(fingerprint(stack.ui.files.get(urlPath)));
    }
  });

  test('POSTs are never cached: every alert and silence sent under GET load reaches Alertmanager', async () => {
    const alertCount = 60;
    const silenceCount = 20;
    const load = startLoad({
      urls: ['/api/v2/alerts', '/api/v2/silences', '/api/v2/alerts/groups', '/', '/script.js'].map((p) => stack.nginxUrl + p),
      concurrency: 4,
      maxRequests: 5_000,
      maxMs: 30_000,
      headers: { 'Accept-Encoding': 'gzip' },
    });

    const alertAnswers = [];
    const silenceAnswers = [];
    try {
      // a few at a time, interleaved, as several Prometheus servers and users would send them
      for (let batch = 0; batch < alertCount; batch += 6) {
        const ids = Array.from({ length: 6 }, (_, i) => `post-${batch + i}`).slice(0, alertCount - batch);
        alertAnswers.push(...await Promise.all(ids.map((id) => postAlert(stack.nginxUrl, id))));
        if (silenceAnswers.length < silenceCount) {
          silenceAnswers.push(...await Promise.all([0, 1].map((i) => postSilence(stack.nginxUrl, `post-${batch + i}`))));
        }
      }
    } finally {
      const result = await load.stop();
      // the GETs ran alongside the POSTs, and every one of them succeeded
      expect(result.requests).toBeGreaterThan(50);
      expect(result.statuses).toEqual({ 200: result.requests });
    }

    expect(alertAnswers.map((a) => a.status)).toEqual(Array(alertCount).fill(200));
    expect(silenceAnswers.map((a) => a.status)).toEqual(Array(silenceCount).fill(200));
    expect(silenceAnswers.map((a) => a.headers['x-proxy-cache'])).not.toContain('HIT');
    const silenceIds = silenceAnswers.map((a) => json(a).silenceID);
    expect(new Set(silenceIds).size).toBe(silenceCount);

    // asked on Alertmanager's own port, past nginx
    const alerts = await alertIdsAt(stack.alertmanagerUrl);
    expect(alerts).toEqual(expect.arrayContaining(Array.from({ length: alertCount }, (_, i) => `post-${i}`)));
    expect(await silenceIdsAt(stack.alertmanagerUrl)).toEqual(expect.arrayContaining(silenceIds));
  });

  test('the health path is answered by nginx itself', async () => {
    const answer = await request(`${stack.nginxUrl}/nginx-health`);

    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('ok');
  });
});
