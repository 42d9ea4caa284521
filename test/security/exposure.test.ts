import * as http from 'http';
import { Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  expectConfigMatchesModel, expectNothingExposed, find, PlainDirective, recordPlans, walk,
} from './fuzz/checks';
import { expectHeadersApplied } from './fuzz/sidecar-case';
import {
  AlertmanagerWithProxy, NginxSidecar, NginxSidecarProps, Route, SecurityHeaders, SidecarTarget,
  StaticFile,
} from '../../src';
import { freePort, layOutPod, startNginx, testWithNginx } from '../support/nginx';

let recorder: ReturnType<typeof recordPlans>;
beforeAll(() => {
  recorder = recordPlans();
});
afterAll(() => recorder.restore());

function build(props: Partial<NginxSidecarProps> = {}) {
  recorder.plans.length = 0;
  const chart = Testing.chart();
  const app = new kplus.Deployment(chart, 'app', {
    containers: [{ image: 'app', portNumber: 9093 }],
  });
  const service = new kplus.Service(chart, 'svc', {
    selector: app,
    ports: [{ name: 'http', port: 80, targetPort: 9093 }],
  });
  const proxy = new NginxSidecar(chart, 'proxy', {
    target: SidecarTarget.fromWorkload(app),
    upstreamPort: 9093,
    ...props,
  });
  proxy.exposeVia(service);
  const plan = recorder.plans[recorder.plans.length - 1];
  const tree = expectConfigMatchesModel(proxy.nginxConf, plan);
  return { chart, proxy, plan, tree, objects: Testing.synth(chart) };
}

const everyRoute = [
  Route.cached('/lib/', { browserCacheFor: Duration.days(1) }),
  Route.microCached('/api/v2/'),
  Route.uncached('/api/'),
  Route.followingAppHeaders('/', {}),
  Route.cached('/', { exact: true }),
];

describe('nginx exposes nothing by accident', () => {
  test('listens on the listen port and on 127.0.0.1 for the compressor, nothing else', () => {
    const { tree, proxy, plan } = build({
      listenPort: 18080,
      compressorPort: 19999,
      routes: everyRoute,
    });

    expectNothingExposed(tree, proxy.listenPort, plan.compressorPort);
    const listens: string[] = [];
    walk(tree, (d) => d.name === 'listen' && listens.push(d.args.join(' ')));
    expect(listens.sort()).toEqual(['127.0.0.1:19999', '18080']);
  });

  test('turns server_tokens off for every server', () => {
    const { tree } = build();
    const body = find(tree, 'http')[0].children!;

    expect(find(body, 'server_tokens')).toEqual([{ name: 'server_tokens', args: ['off'] }]);
    walk(body, (d) => expect(d.name === 'server_tokens' && d.args[0] !== 'off').toBe(false));
  });

  test('proxies only to upstreams on 127.0.0.1', () => {
    const { tree } = build({ routes: everyRoute });
    const upstreams = find(find(tree, 'http')[0].children!, 'upstream');

    expect(upstreams.map((u) => find(u.children!, 'server').map((s) => s.args[0])))
      .toEqual([['127.0.0.1:9093'], ['127.0.0.1:8081']]);
    const targets: string[] = [];
    walk(tree, (d) => d.name === 'proxy_pass' && targets.push(d.args[0]));
    expect(new Set(targets)).toEqual(new Set(['http://sidecar_app', 'http://sidecar_compressor']));
  });

  test('declares only the listen port on the container and in the Service', () => {
    const { objects } = build({ listenPort: 18080, compressorPort: 19999 });
    const deployment = objects.find((o) => o.kind === 'Deployment');
    const nginx = deployment.spec.template.spec.containers.find((c: any) => c.name === 'nginx');
    const service = objects.find((o) => o.kind === 'Service');

    expect(nginx.ports).toEqual([{ containerPort: 18080, name: 'nginx-http', protocol: 'TCP' }]);
    expect(nginx.ports.some((p: any) => p.hostPort !== undefined)).toBe(false);
    expect(service.spec.ports)
      .toEqual([{ name: 'nginx-http', port: 18080, targetPort: 'nginx-http' }]);
  });

  test('security headers are added with always, at server level only, never in a location', () => {
    const { tree, plan } = build({
      responseHeaders: SecurityHeaders.recommended(),
      routes: everyRoute,
      overrides: [StaticFile.fromString('/script.js', 'x')],
    });

    expectHeadersApplied(tree, plan.responseHeaders);
    expect(plan.responseHeaders.map((h) => h.name))
      .toEqual(['X-Content-Type-Options', 'Referrer-Policy', 'X-Frame-Options']);
    const placed: string[] = [];
    walk(tree, (d: PlainDirective, parents: PlainDirective[]) => {
      if (d.name === 'add_header') {
        placed.push(`${parents.map((p) => p.name).join('/')} ${d.args.join(' ')}`);
      }
    });
    expect(placed).toEqual([
      'http/server X-Proxy-Cache $upstream_cache_status always',
      'http/server X-Content-Type-Options nosniff always',
      'http/server Referrer-Policy same-origin always',
      'http/server X-Frame-Options SAMEORIGIN always',
    ]);
  });

  test('the Alertmanager proxy follows the same rules; its headless Service keeps 9093, 9094', () => {
    recorder.plans.length = 0;
    const chart = Testing.chart();
    const am = new AlertmanagerWithProxy(chart, 'am', {
      replicas: 3,
      proxy: { responseHeaders: SecurityHeaders.recommended() },
      ingress: { host: 'alerts.example.com' },
    });
    const plan = recorder.plans[recorder.plans.length - 1];
    const tree = expectConfigMatchesModel(am.proxy.nginxConf, plan);
    const objects = Testing.synth(chart);
    const services = objects.filter((o) => o.kind === 'Service');
    const publicService = services.find((s) => s.spec.clusterIP !== 'None');
    const headless = services.find((s) => s.spec.clusterIP === 'None');
    const ingress = objects.find((o) => o.kind === 'Ingress');

    expectNothingExposed(tree, am.proxy.listenPort, plan.compressorPort);
    expectHeadersApplied(tree, plan.responseHeaders);
    expect(publicService.spec.ports)
      .toEqual([{ name: 'nginx-http', port: 8080, targetPort: 'nginx-http' }]);
    expect(headless.spec.ports.map((p: any) => p.port)).toEqual([9093, 9094, 9094]);
    expect(ingress.spec.rules[0].http.paths[0].backend.service.port)
      .toEqual({ name: 'nginx-http' });
  });
});

describe('the real nginx', () => {
  function get(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      http.get(url, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      }).on('error', reject);
    });
  }

  testWithNginx('sends the security headers on its answers and on errors, and no version', async () => {
    const { objects } = build({
      responseHeaders: SecurityHeaders.recommended(),
      routes: everyRoute,
    });
    const [listen, compressor, app] = [await freePort(), await freePort(), await freePort()];
    const layout = layOutPod(objects, { ports: { 8080: listen, 8081: compressor, 9093: app } });
    // the config names its upstream 127.0.0.1:9093; nothing listens on the moved port, so 502
    const nginx = await startNginx(layout, { port: listen });

    const expected = [['/nginx-health', 200], ['/api/v2/alerts', 502], ['/lib/x.js', 502]] as const;
    for (const [path, status] of expected) {
      const answer = await get(`${nginx.url}${path}`);

      expect(answer.status).toBe(status);
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['referrer-policy']).toBe('same-origin');
      expect(answer.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(answer.headers.server).toBe('nginx');
    }
    await nginx.stop();
  });
});
