import { Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  configMapNamed, containerOf, expectNginxAccepts, onlyOfKind, podSpecOf, synth,
} from './fixtures';
import { NginxSidecar, Route, SidecarTarget, StaticFile } from '../../src';
import { describeWithNginx } from '../support/nginx';

const PATCHED_SCRIPT = '// patched Alertmanager UI\nwindow.patched = true;\n'.repeat(40);

/**
 * The hand-written recipe's scenario: Alertmanager in a StatefulSet, a patched script.js served
 * by nginx, and the Service and Ingress in front. Each test checks one of the recipe's steps.
 */
function recipe() {
  const chart = Testing.chart();
  const alertmanager = new kplus.StatefulSet(chart, 'alertmanager', {
    containers: [{
      name: 'alertmanager',
      image: 'quay.io/prometheus/alertmanager:v0.25.0',
      ports: [{ number: 9093, name: 'http' }],
    }],
  });
  const service = new kplus.Service(chart, 'service', {
    selector: alertmanager,
    ports: [{ port: 9093, name: 'http' }],
  });
  const ingress = new kplus.Ingress(chart, 'ingress');
  ingress.addHostRule('alertmanager.example.com', '/', kplus.IngressBackend.fromService(service));
  const proxy = new NginxSidecar(chart, 'proxy', {
    target: SidecarTarget.fromWorkload(alertmanager),
    upstreamPort: 9093,
    routes: [
      Route.cached('/', { exact: true }),
      Route.cached('/lib/', { validFor: Duration.days(1) }),
      Route.cached('/favicon.ico', { exact: true }),
      Route.uncached('/api/'),
    ],
    overrides: [StaticFile.fromString('/script.js', PATCHED_SCRIPT, { browserCacheFor: Duration.hours(1) })],
  });
  proxy.exposeVia(service, { ingresses: [ingress] });
  return { manifests: synth(chart), proxy, service };
}

describe('the recipe, rebuilt', () => {
  test('step 1: an nginx.conf ConfigMap that listens on 8080 and proxies to Alertmanager', () => {
    const { manifests, proxy } = recipe();
    const conf = configMapNamed(manifests, proxy.configMap.name).data['nginx.conf'];

    expect(conf).toContain('        listen 8080;\n');
    expect(conf).toContain('        server 127.0.0.1:9093;\n');
    expect(conf).toMatch(/proxy_cache_path \/var\/cache\/nginx\/proxy_cache levels=1:2 keys_zone=sidecar_cache:10m/);
    // unlike the recipe, buffering is on, so the cache stores answers
    expect(conf).toContain('proxy_buffering on;');
    expect(conf).not.toContain('proxy_buffering off');
    // unlike the recipe, the API is never cached and no error answer is stored
    expect(conf).toMatch(/location \/api\/ \{[^}]*proxy_cache off;/);
    expect(conf).not.toMatch(/proxy_cache_valid (any|5\d\d)/);
  });

  test('step 2: an overrides ConfigMap holding the patched script.js, served by nginx', () => {
    const { manifests, proxy } = recipe();
    const overrides = configMapNamed(manifests, proxy.overridesConfigMap!.name);

    expect(overrides.data['0-script.js']).toBe(PATCHED_SCRIPT);
    expect(Object.keys(overrides.binaryData)).toEqual(['0-script.js.gz']);
    expect(proxy.nginxConf).toMatch(/location = \/script\.js \{\n\s+root \/usr\/share\/nginx\/overrides;/);
  });

  test('step 3: the StatefulSet gains the nginx container as user 101, three volumes and a cache emptyDir', () => {
    const { manifests } = recipe();
    const statefulSet = onlyOfKind(manifests, 'StatefulSet');
    const nginx = containerOf(statefulSet, 'nginx');

    expect(nginx.args).toEqual(['-g', 'daemon off;', '-c', '/etc/nginx/sidecar/nginx.conf']);
    expect(nginx.ports).toEqual([{ containerPort: 8080, name: 'nginx-http', protocol: 'TCP' }]);
    expect([nginx.securityContext.runAsUser, nginx.securityContext.runAsGroup]).toEqual([101, 101]);
    expect(podSpecOf(statefulSet).volumes.map((v: any) => Object.keys(v).filter((k) => k !== 'name')[0]))
      .toEqual(['configMap', 'configMap', 'emptyDir']);
    expect(nginx.volumeMounts.map((m: any) => m.mountPath))
      .toEqual(['/etc/nginx/sidecar', '/usr/share/nginx/overrides', '/var/cache/nginx']);
  });

  test('step 4: the Service port 9093 "http" becomes 8080 "nginx-http" with a named target port', () => {
    const { manifests, service } = recipe();
    const remapped = manifests.find((m) => m.kind === 'Service' && m.metadata.name === service.name);

    expect(remapped.spec.ports).toEqual([{ name: 'nginx-http', port: 8080, targetPort: 'nginx-http' }]);
  });

  test('step 5: the Ingress backend follows the port to nginx-http', () => {
    const { manifests, service } = recipe();
    const backend = onlyOfKind(manifests, 'Ingress').spec.rules[0].http.paths[0].backend;

    expect(backend).toEqual({ service: { name: service.name, port: { name: 'nginx-http' } } });
  });
});

describeWithNginx('the recipe, rebuilt, under real nginx', () => {
  test('nginx -t accepts its config', () => {
    expectNginxAccepts(recipe().manifests);
  });
});
