import { Duration, Size, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import {
  AlertmanagerConfig, AlertmanagerStorage, AlertmanagerWithProxy, AlertmanagerWithProxyProps, StaticFile,
} from '../../src';
import {
  byKind, configMapNamed, containerOf, expectNginxAccepts, onlyOfKind, podSpecOf, synth,
} from '../sidecar/fixtures';
import { describeWithNginx } from '../support/nginx';

function alertmanager(props: AlertmanagerWithProxyProps = {}) {
  const chart = Testing.chart();
  const am = new AlertmanagerWithProxy(chart, 'alertmanager', props);
  return { am, manifests: synth(chart) };
}

function argsOf(manifests: any[]): string[] {
  return containerOf(onlyOfKind(manifests, 'StatefulSet'), 'alertmanager').args;
}

describe('AlertmanagerWithProxy', () => {
  test('defaults', () => {
    expect(alertmanager().manifests).toMatchSnapshot();
  });

  test('one replica runs without clustering and without a disruption budget', () => {
    const { manifests } = alertmanager();

    expect(onlyOfKind(manifests, 'StatefulSet').spec.replicas).toBe(1);
    expect(argsOf(manifests)).toContain('--cluster.listen-address=');
    expect(argsOf(manifests).filter((a) => a.startsWith('--cluster.peer'))).toEqual([]);
    expect(byKind(manifests, 'PodDisruptionBudget')).toEqual([]);
  });

  test('three replicas form a cluster through the headless Service and keep two up', () => {
    const { am, manifests } = alertmanager({ replicas: 3 });
    const sts = am.statefulSet.name;
    const headless = am.headlessService.name;

    expect(argsOf(manifests)).toEqual(expect.arrayContaining([
      '--cluster.listen-address=0.0.0.0:9094',
      `--cluster.peer=${sts}-0.${headless}:9094`,
      `--cluster.peer=${sts}-1.${headless}:9094`,
      `--cluster.peer=${sts}-2.${headless}:9094`,
    ]));
    expect(onlyOfKind(manifests, 'PodDisruptionBudget').spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: onlyOfKind(manifests, 'StatefulSet').spec.selector.matchLabels },
    });
  });

  test('the headless Service keeps 9093 and 9094 (TCP and UDP); the public one goes through nginx', () => {
    const { am, manifests } = alertmanager({ replicas: 2 });
    const service = (name: string) => manifests.find((m) => m.kind === 'Service' && m.metadata.name === name);

    expect(onlyOfKind(manifests, 'StatefulSet').spec.serviceName).toBe(am.headlessService.name);
    expect(service(am.headlessService.name).spec).toMatchObject({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      ports: [
        { name: 'http', port: 9093, targetPort: 9093 },
        { name: 'cluster-tcp', port: 9094, targetPort: 9094 },
        { name: 'cluster-udp', port: 9094, protocol: 'UDP', targetPort: 9094 },
      ],
    });
    expect(service(am.service.name).spec.ports).toEqual([{ name: 'nginx-http', port: 8080, targetPort: 'nginx-http' }]);
  });

  test('keeps alertmanager.yml in a Secret, mounted read-only, with a checksum that rolls pods', () => {
    const config = AlertmanagerConfig.fromObject({
      route: { receiver: 'team' },
      receivers: [{ name: 'team', webhook_configs: [{ url: 'https://hooks.example.com/secret-token' }] }],
    });
    const { am, manifests } = alertmanager({ config });
    const secret = onlyOfKind(manifests, 'Secret');

    expect(YAML.parse(secret.stringData['alertmanager.yml']).receivers[0].name).toBe('team');
    for (const other of manifests.filter((m) => m.kind !== 'Secret')) {
      expect(JSON.stringify(other)).not.toContain('secret-token');
    }
    const mount = containerOf(onlyOfKind(manifests, 'StatefulSet'), 'alertmanager').volumeMounts
      .find((m: any) => m.mountPath === '/etc/alertmanager');
    expect(mount.readOnly).toBe(true);
    const annotations = onlyOfKind(manifests, 'StatefulSet').spec.template.metadata.annotations;
    expect(annotations['alertmanager/config-checksum']).toMatch(/^[0-9a-f]{64}$/);
    expect(am.configSecret.name).toBe(secret.metadata.name);
  });

  test('raw YAML config is kept byte for byte', () => {
    const text = '# ours\nroute:\n  receiver: "null"\nreceivers:\n  - name: "null"\n';
    const { manifests } = alertmanager({ config: AlertmanagerConfig.fromYaml(text) });

    expect(onlyOfKind(manifests, 'Secret').stringData['alertmanager.yml']).toBe(text);
  });

  test('persistent storage is a claim template per replica', () => {
    const { manifests } = alertmanager({
      storage: AlertmanagerStorage.persistent({ size: Size.gibibytes(2), storageClassName: 'fast' }),
    });
    const sts = onlyOfKind(manifests, 'StatefulSet');

    expect(sts.spec.volumeClaimTemplates).toEqual([{
      metadata: { name: 'storage' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2048Mi' } }, storageClassName: 'fast' },
    }]);
    expect(containerOf(sts, 'alertmanager').volumeMounts).toContainEqual({ name: 'storage', mountPath: '/alertmanager' });
  });

  test('ephemeral storage is a bounded emptyDir', () => {
    const { manifests } = alertmanager({ storage: AlertmanagerStorage.ephemeral(Size.mebibytes(100)) });
    const sts = onlyOfKind(manifests, 'StatefulSet');

    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    expect(podSpecOf(sts).volumes.find((v: any) => v.name === 'storage').emptyDir).toEqual({ sizeLimit: '100Mi' });
  });

  test('the route prefix moves probes, routes and overrides', () => {
    const { am, manifests } = alertmanager({
      externalUrl: 'https://example.com/alertmanager',
      overrides: [StaticFile.fromString('/script.js', 'patched();')],
    });
    const container = containerOf(onlyOfKind(manifests, 'StatefulSet'), 'alertmanager');

    expect(am.routePrefix).toBe('/alertmanager');
    expect(container.args).toEqual(expect.arrayContaining([
      '--web.external-url=https://example.com/alertmanager',
      '--web.route-prefix=/alertmanager',
    ]));
    expect(container.readinessProbe.httpGet.path).toBe('/alertmanager/-/ready');
    expect(container.livenessProbe.httpGet.path).toBe('/alertmanager/-/healthy');
    expect(am.proxy.nginxConf).toContain('location = /alertmanager/script.js {\n            root');
    expect(am.proxy.nginxConf).toContain('location /alertmanager/lib/ {');
    expect(am.proxy.nginxConf).toContain('location /alertmanager/api/ {');
  });

  test('caches the UI of 0.25 to 0.31 and never the API by default', () => {
    const conf = alertmanager({ version: '0.27.0' }).am.proxy.nginxConf;

    for (const ui of ['= /', '= /script.js', '= /favicon.ico', '/lib/']) {
      expect(conf).toMatch(new RegExp(`location ${ui.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\{[^}]*proxy_cache_valid 200 1d;`));
    }
    expect(conf).toMatch(/location \/api\/ \{[^}]*proxy_cache off;/);
    expect(conf).not.toContain('location /api/v2/');
  });

  test('caches /assets/ from 0.32, where the UI files are hashed', () => {
    const conf = alertmanager({ version: '0.32.0' }).am.proxy.nginxConf;

    expect(conf).toMatch(/location \/assets\/ \{[^}]*proxy_cache_valid 200 1d;[^}]*expires 30d;/);
    expect(conf).not.toContain('script.js');
  });

  test('micro-caches the API only when asked, for the time asked', () => {
    const conf = alertmanager({ apiMicroCache: Duration.seconds(2) }).am.proxy.nginxConf;

    expect(conf).toMatch(/location \/api\/v2\/ \{[^}]*proxy_cache_valid 200 2s;[^}]*proxy_cache_background_update off;/);
  });

  test('exposes the web flags Alertmanager has for load', () => {
    const { manifests } = alertmanager({ maxConcurrentGets: 64, webTimeout: Duration.seconds(30) });

    expect(argsOf(manifests)).toEqual(expect.arrayContaining(['--web.get-concurrency=64', '--web.timeout=30s']));
  });

  test('an Ingress points at the public Service through nginx', () => {
    const { am, manifests } = alertmanager({ ingress: { host: 'am.example.com', tlsSecretName: 'am-tls' } });
    const ingress = onlyOfKind(manifests, 'Ingress');

    expect(ingress.spec.rules[0]).toEqual({
      host: 'am.example.com',
      http: { paths: [{ backend: { service: { name: am.service.name, port: { name: 'nginx-http' } } }, path: '/', pathType: 'Prefix' }] },
    });
    expect(ingress.spec.tls).toEqual([{ hosts: ['am.example.com'], secretName: 'am-tls' }]);
  });

  test('passes proxy tuning to the sidecar', () => {
    const { am, manifests } = alertmanager({ proxy: { listenPort: 8888, workerProcesses: 2 } });

    expect(am.proxy.nginxConf).toContain('worker_processes 2;');
    expect(containerOf(onlyOfKind(manifests, 'StatefulSet'), 'nginx').ports[0].containerPort).toBe(8888);
    expect(configMapNamed(manifests, am.proxy.configMap.name).data['nginx.conf']).toBe(am.proxy.nginxConf);
  });
});

describe('AlertmanagerWithProxy bad input', () => {
  test.each([
    [{ replicas: 0 }, /'replicas' must be an integer between 1 and 100, got 0/],
    [{ version: 'latest' }, /'version' must be an Alertmanager release such as 0.28.1, got "latest"/],
    [{ externalUrl: 'example.com/am' }, /'externalUrl' must be an absolute http\(s\) URL, got "example.com\/am"/],
    [{ routePrefix: 'am' }, /'routePrefix' must be an absolute URL path .* got "am"/],
    [{ maxConcurrentGets: 0 }, /'maxConcurrentGets' must be an integer between 1 and 100000, got 0/],
    [{ apiMicroCache: Duration.minutes(5) }, /'apiMicroCache' must be a whole number of seconds from 1000 ms to 60000 ms, got 300000 ms/],
    [{ retention: Duration.seconds(10) }, /'retention' must be a whole number of seconds from 60000 ms/],
    [{ ingress: { host: 'am example.com' } }, /'ingress.host' must be a DNS-1123 subdomain .* got "am example.com"/],
    [{ ingress: { tlsSecretName: 'tls' } }, /'ingress.tlsSecretName' "tls" needs 'ingress.host'/],
  ])('fails when props are %p', (props, message) => {
    expect(() => alertmanager(props as AlertmanagerWithProxyProps)).toThrow(message);
  });

  test('fails when /script.js is overridden on 0.32, saying what to do instead', () => {
    expect(() => alertmanager({ version: '0.32.0', overrides: [StaticFile.fromString('/script.js', 'x')] }))
      .toThrow(/'overrides' has \/script.js, which Alertmanager 0.32.0 does not serve: .*under \/assets\/. Override the asset path/);
  });

  test('fails when the config YAML does not parse or is not a mapping', () => {
    expect(() => AlertmanagerConfig.fromYaml('route: [')).toThrow(/'config' YAML does not parse/);
    expect(() => AlertmanagerConfig.fromYaml('- a\n- b\n')).toThrow(/'config' YAML must be a mapping/);
  });
});

describeWithNginx('AlertmanagerWithProxy under real nginx -t', () => {
  test.each([
    ['defaults', {}],
    ['three replicas with a prefix, micro-cache and an override', {
      replicas: 3,
      routePrefix: '/am',
      apiMicroCache: Duration.seconds(1),
      overrides: [StaticFile.fromString('/script.js', 'patched();\n'.repeat(300))],
    }],
    ['0.32 layout', { version: '0.32.0' }],
  ])('accepts the config: %s', (_, props) => {
    expectNginxAccepts(alertmanager(props as AlertmanagerWithProxyProps).manifests);
  });
});

test('a refused proxy option is named under proxy', () => {
  expect(() => alertmanager({ proxy: { image: '' } })).toThrow(/'proxy.image' must be an image reference/);
  expect(() => alertmanager({ proxy: { cache: { maxSize: Size.kibibytes(10) } } })).toThrow(/'proxy.cache.maxSize' must be/);
});
