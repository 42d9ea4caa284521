import * as http from 'http';
import { describeWithNginx } from '../support/nginx';
import { AppPod, startAppPod } from './support/app-pod';
import { request } from './support/http';

/**
 * An app that lets shared caches keep every answer for a minute, and tells in the body who asked
 * and how often it was asked: a cached answer shows an old count.
 */
function cacheableApp(): http.Server {
  let served = 0;
  return http.createServer((req, res) => {
    served++;
    const privately = req.url?.startsWith('/private/');
    res.setHeader('Cache-Control', privately ? 'private, max-age=60' : 'max-age=60');
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? null, served }));
  });
}

describeWithNginx('paths no route matches, run by the real nginx before an app that allows caching', () => {
  let pod: AppPod;

  beforeAll(async () => {
    // no routes: every path follows the app's headers
    pod = await startAppPod(cacheableApp(), []);
  });

  afterAll(async () => {
    await pod?.stop();
  });

  async function get(path: string, authorization?: string) {
    const answer = await request(`${pod.nginx.url}${path}`, { headers: authorization ? { Authorization: authorization } : {} });
    expect(answer.status).toBe(200);
    return { cache: answer.headers['x-proxy-cache'], ...JSON.parse(answer.body.toString()) };
  }

  test('an answer the app allows is cached and served again', async () => {
    const first = await get('/report');
    const second = await get('/report');

    expect(first.cache).toBe('MISS');
    expect(second).toEqual({ ...first, cache: 'HIT' });
  });

  test('answers to requests with Authorization are neither stored nor served from the cache', async () => {
    const anonymous = await get('/dashboard');
    const alice = await get('/dashboard', 'Bearer alice');
    const bob = await get('/dashboard', 'Bearer bob');
    const aliceAgain = await get('/dashboard', 'Bearer alice');

    expect([alice.authorization, alice.cache]).toEqual(['Bearer alice', 'BYPASS']);
    expect([bob.authorization, bob.cache]).toEqual(['Bearer bob', 'BYPASS']);
    expect(aliceAgain.served).toBeGreaterThan(bob.served);
    // the anonymous entry was not replaced by an authorized answer
    expect(await get('/dashboard')).toEqual({ ...anonymous, cache: 'HIT' });
  });

  test('a private answer is never stored', async () => {
    const first = await get('/private/inbox');
    const second = await get('/private/inbox');

    expect(second.served).toBeGreaterThan(first.served);
    expect(second.cache).toBe('MISS');
  });
});

describeWithNginx('listenOnIpv6, run by the real nginx', () => {
  let pod: AppPod;

  beforeAll(async () => {
    pod = await startAppPod(cacheableApp(), [], { listenOnIpv6: true });
  });

  afterAll(async () => {
    await pod?.stop();
  });

  test('the same server answers on IPv6 loopback and on IPv4', async () => {
    const overIpv6 = await new Promise<number>((resolve, reject) => {
      http.get({ host: '::1', port: pod.nginx.port, path: '/nginx-health' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });

    expect(overIpv6).toBe(200);
    expect((await request(`${pod.nginx.url}/nginx-health`)).status).toBe(200);
  });
});
