import * as path from 'path';
import { ApiObject, Chart, Cron, Duration, Include, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  appStatefulSet, byKind, configMapNamed, containerOf, expectNginxAccepts, onlyOfKind, podSpecOf,
  synth,
} from './fixtures';
import {
  NginxSidecar, Route, SecurityHeaders, SidecarPaths, SidecarTarget, StaticFile,
} from '../../src';
import { describeWithNginx } from '../support/nginx';

const INCLUDED = path.join(__dirname, '..', 'fixtures', 'included-deployment.yaml');

describe('NginxSidecar', () => {
  test('defaults', () => {
    const chart = Testing.chart();
    const app = appStatefulSet(chart);
    new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });

    expect(synth(chart)).toMatchSnapshot();
  });

  test('adds a hardened nginx container with small resources and probes on its health path', () => {
    const chart = Testing.chart();
    const app = appStatefulSet(chart);
    new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });

    const nginx = containerOf(onlyOfKind(synth(chart), 'StatefulSet'), 'nginx');
    expect(nginx.args).toEqual(['-g', 'daemon off;', '-c', '/etc/nginx/sidecar/nginx.conf']);
    expect(nginx.image).toMatch(/^docker\.io\/library\/nginx:\d+\.\d+\.\d+$/);
    expect(nginx.ports).toEqual([{ containerPort: 8080, name: 'nginx-http', protocol: 'TCP' }]);
    expect(nginx.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsGroup: 101,
      runAsNonRoot: true,
      runAsUser: 101,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(nginx.resources).toEqual({ limits: { memory: '128Mi' }, requests: { cpu: '50m', memory: '32Mi' } });
    expect(nginx.readinessProbe.httpGet).toEqual({ path: '/nginx-health', port: 'nginx-http' });
    expect(nginx.livenessProbe.httpGet).toEqual({ path: '/nginx-health', port: 'nginx-http' });
  });

  test('mounts both ConfigMaps read-only with explicit modes and a bounded emptyDir', () => {
    const chart = Testing.chart();
    const app = appStatefulSet(chart);
    const proxy = new NginxSidecar(chart, 'proxy', {
      target: SidecarTarget.fromWorkload(app),
      upstreamPort: 9093,
      cache: { maxSize: Size.mebibytes(512) },
      overrides: [StaticFile.fromString('/script.js', 'patched();\n')],
    });

    const manifests = synth(chart);
    const spec = podSpecOf(onlyOfKind(manifests, 'StatefulSet'));
    const volume = (name: string) => spec.volumes.find((v: any) => v.name === name);
    expect(volume('nginx-config').configMap).toEqual({
      name: proxy.configMap.name,
      items: [{ key: 'nginx.conf', path: 'nginx.conf', mode: 0o444 }],
    });
    expect(volume('nginx-overrides').configMap.items).toEqual([{ key: '0-script.js', path: 'script.js', mode: 0o444 }]);
    // the cache may grow to 512Mi; the volume leaves room for temporary files beside it
    expect(volume('nginx-state').emptyDir).toEqual({ sizeLimit: '576Mi' });
    expect(proxy.nginxConf).toContain('max_size=512m');
    const mounts = containerOf(onlyOfKind(manifests, 'StatefulSet'), 'nginx').volumeMounts;
    expect(mounts).toEqual([
      { mountPath: SidecarPaths.CONFIG_DIR, name: 'nginx-config', readOnly: true },
      { mountPath: SidecarPaths.OVERRIDES_DIR, name: 'nginx-overrides', readOnly: true },
      { mountPath: SidecarPaths.STATE_DIR, name: 'nginx-state' },
    ]);
    expect(configMapNamed(manifests, proxy.configMap.name).data['nginx.conf']).toBe(proxy.nginxConf);
  });

  test('keeps the app container as the user wrote it', () => {
    const chart = Testing.chart();
    const bare = synth(chartWithApp());
    const app = appStatefulSet(chart);
    new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });

    const withSidecar = onlyOfKind(synth(chart), 'StatefulSet');
    expect(containerOf(withSidecar, 'app')).toEqual(containerOf(onlyOfKind(bare, 'StatefulSet'), 'app'));
  });

  test('a change of config changes the pod template checksum, so pods roll', () => {
    const checksum = (body: string) => {
      const chart = Testing.chart();
      new NginxSidecar(chart, 'proxy', {
        target: SidecarTarget.fromWorkload(appStatefulSet(chart)),
        upstreamPort: 9093,
        overrides: [StaticFile.fromString('/script.js', body)],
      });
      const template = onlyOfKind(synth(chart), 'StatefulSet').spec.template;
      return template.metadata.annotations['nginx-sidecar/config-checksum'];
    };

    expect(checksum('a();')).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum('a();')).toBe(checksum('a();'));
    expect(checksum('a();')).not.toBe(checksum('b();'));
  });

  test('renders the same nginx.conf for the same props, byte for byte', () => {
    const render = () => {
      const chart = Testing.chart();
      return new NginxSidecar(chart, 'proxy', {
        target: SidecarTarget.fromWorkload(appStatefulSet(chart)),
        upstreamPort: 9093,
        routes: [Route.cached('/lib/'), Route.microCached('/api/v2/')],
      }).nginxConf;
    };

    expect(render()).toBe(render());
  });
});

describe('nginx.conf', () => {
  function conf(props: Partial<ConstructorParameters<typeof NginxSidecar>[2]> = {}): string {
    const chart = Testing.chart();
    return new NginxSidecar(chart, 'proxy', {
      target: SidecarTarget.fromWorkload(appStatefulSet(chart)),
      upstreamPort: 9093,
      ...props,
    }).nginxConf;
  }

  /** The text of the public server's first `location <match> {` block. */
  function location(text: string, match: string): string {
    const publicServer = text.indexOf('add_header X-Proxy-Cache');
    const start = text.indexOf(`\n        location ${match} {\n`, publicServer);
    if (publicServer < 0 || start < 0) {
      throw new Error(`no location ${match} in:\n${text}`);
    }
    return text.slice(start, text.indexOf('\n        }\n', start));
  }

  test('proxies to the app on 127.0.0.1 with keepalive and listens on the listen port', () => {
    const text = conf({ listenPort: 8181 });

    expect(text).toContain('    upstream sidecar_app {\n        server 127.0.0.1:9093;\n        keepalive 32;\n');
    expect(text).toContain('        listen 8181;\n');
    expect(text).toContain('        listen 127.0.0.1:8182;\n');
    expect(text.match(/^\s*listen /gm)).toHaveLength(2);
  });

  test('listens on IPv6 too when asked, on the listen port only', () => {
    const text = conf({ listenPort: 8181, listenOnIpv6: true });

    expect(text).toContain('        listen 8181;\n        listen [::]:8181;\n');
    expect(text.match(/^\s*listen /gm)).toHaveLength(3);
  });

  test('sets every writable path inside the state volume and sends no version', () => {
    const text = conf();

    for (const directive of ['pid', 'client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path',
      'uwsgi_temp_path', 'scgi_temp_path', 'proxy_cache_path']) {
      expect(text).toMatch(new RegExp(`^\\s*${directive} /var/cache/nginx/`, 'm'));
    }
    expect(text).toContain('server_tokens off;');
    expect(text).toContain('worker_processes 1;');
    expect(text).not.toContain('tcp_nopush');
  });

  test('compresses text types only, with Vary', () => {
    const text = conf();
    const types = /gzip_types ([^;]*);/.exec(text)![1].split(' ');

    expect(types).toEqual(expect.arrayContaining(['text/css', 'application/javascript', 'application/json']));
    expect(types.filter((t) => /^image\/(png|jpeg|gif|webp)$/.test(t))).toEqual([]);
    expect(text).toContain('gzip_vary on;');
  });

  test('paths no route matches follow the app headers: no fixed lifetime, nothing ignored', () => {
    const catchAll = location(conf(), '/');

    expect(catchAll).toContain('proxy_cache sidecar_cache;');
    expect(catchAll).not.toContain('proxy_cache_valid');
    expect(catchAll).not.toContain('proxy_ignore_headers');
    // requests with Authorization skip the cache; a 5xx is still never stored
    expect(catchAll).toContain('proxy_cache_bypass $http_authorization;');
    expect(catchAll).toContain('proxy_no_cache $sidecar_upstream_failed $http_authorization;');
  });

  test('a cached route stores 200 answers only, despite the app\'s no-cache headers', () => {
    const cached = location(conf({ routes: [Route.cached('/lib/', { validFor: Duration.days(1) })] }), '/lib/');

    expect(cached).toContain('proxy_cache_valid 200 1d;');
    expect(cached).toContain('proxy_ignore_headers Cache-Control Expires Vary;');
    expect(cached).toContain('proxy_cache_use_stale updating error timeout http_500 http_502 http_503 http_504;');
    expect(cached).toContain('proxy_pass http://sidecar_compressor;');
  });

  test('a micro-cached route is bounded: locked, no background refresh, no stale on error', () => {
    const micro = location(conf({ routes: [Route.microCached('/api/v2/')] }), '/api/v2/');

    expect(micro).toContain('proxy_cache_valid 200 1s;');
    expect(micro).toContain('proxy_cache_lock on;');
    expect(micro).toContain('proxy_cache_use_stale updating;');
    expect(micro).toContain('proxy_cache_background_update off;');
  });

  test('an uncached route turns the cache off', () => {
    const uncached = location(conf({ routes: [Route.uncached('/api/')] }), '/api/');

    expect(uncached).toContain('proxy_cache off;');
  });

  test('a WebSocket route passes upgrades through, uncached, with its idle timeout', () => {
    const text = conf({ routes: [Route.webSocket('/ws', { exact: true, idleTimeout: Duration.minutes(10) })] });
    const webSocket = location(text, '= /ws');

    expect(webSocket).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(webSocket).toContain('proxy_set_header Connection $sidecar_connection_upgrade;');
    expect(webSocket).toContain('proxy_cache off;');
    expect(webSocket).toContain('proxy_read_timeout 10m;');
    expect(webSocket).toContain('proxy_send_timeout 10m;');
    expect(text).toContain("map $http_upgrade $sidecar_connection_upgrade {\n        default upgrade;\n        '' '';\n    }");
    // every other location keeps the Upgrade header from the app
    expect(location(text, '/')).not.toContain('Upgrade');
    expect(location(text, '/')).toContain("proxy_set_header Connection '';");
  });

  test('without a WebSocket route there is no upgrade map', () => {
    expect(conf()).not.toMatch(/upgrade/i);
  });

  test('5xx answers are never stored, whatever the app says', () => {
    const text = conf();

    expect(text).toContain('proxy_no_cache $sidecar_upstream_failed;');
    expect(text).toMatch(/map \$upstream_status \$sidecar_upstream_failed \{\n\s+default 0;\n\s+~\^5 1;/);
  });

  test('browser lifetimes replace the app\'s caching headers on that route only, without if', () => {
    const text = conf({ routes: [Route.cached('/lib/', { browserCacheFor: Duration.days(7) }), Route.cached('/x/')] });

    expect(location(text, '/lib/')).toContain('expires 7d;');
    expect(location(text, '/lib/')).toContain('proxy_hide_header Cache-Control;');
    expect(location(text, '/x/')).not.toContain('expires');
    expect(text).not.toMatch(/^\s*if /m);
  });

  test('serves overrides from the overrides volume, with their type and a precompressed copy', () => {
    const text = conf({
      overrides: [
        StaticFile.fromString('/script.js', 'x'.repeat(4096), { browserCacheFor: Duration.days(90) }),
        StaticFile.fromString('/tiny.txt', 'hi'),
      ],
    });
    const script = location(text, '= /script.js');

    expect(script).toContain(`root ${SidecarPaths.OVERRIDES_DIR};`);
    expect(script).toContain("default_type 'application/javascript; charset=utf-8';");
    expect(script).toContain('gzip_static on;');
    expect(script).toContain('expires 90d;');
    // too small to be worth compressing
    expect(location(text, '= /tiny.txt')).not.toContain('gzip_static');
  });

  test('adds security headers with always, at server level only', () => {
    const text = conf({ responseHeaders: SecurityHeaders.recommended(), routes: [Route.cached('/lib/')] });

    expect(text).toContain('        add_header X-Content-Type-Options nosniff always;\n');
    expect(text).toContain('        add_header Referrer-Policy same-origin always;\n');
    expect(text).not.toMatch(/^ {12}add_header/m);
  });
});

describe('SidecarTarget', () => {
  test.each([
    ['Deployment', (c: any) => new kplus.Deployment(c, 'app', { containers: [appContainer()] })],
    ['StatefulSet', (c: any) => new kplus.StatefulSet(c, 'app', { containers: [appContainer()] })],
    ['DaemonSet', (c: any) => new kplus.DaemonSet(c, 'app', { containers: [appContainer()] })],
    ['Job', (c: any) => new kplus.Job(c, 'app', { containers: [appContainer()] })],
    ['CronJob', (c: any) => new kplus.CronJob(c, 'app', {
      containers: [appContainer()],
      schedule: Cron.schedule({ minute: '*/5' }),
    })],
  ])('attaches to a cdk8s-plus %s', (kind, make) => {
    const chart = Testing.chart();
    const workload = make(chart);
    new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(workload), upstreamPort: 9093 });

    const manifests = synth(chart);
    const synthesized = onlyOfKind(manifests, kind);
    expect(podSpecOf(synthesized).containers.map((c: any) => c.name)).toEqual(['app', 'nginx']);
    // no overrides, so no overrides ConfigMap or volume
    expect(podSpecOf(synthesized).volumes.map((v: any) => v.name)).toEqual(['nginx-config', 'nginx-state']);
    expect(byKind(manifests, 'ConfigMap')).toHaveLength(1);
  });

  test('attaches to a raw KubeDeployment, keeping its IntOrString and Quantity values', () => {
    const chart = Testing.chart();
    const raw = new kplus.k8s.KubeDeployment(chart, 'raw', {
      spec: {
        selector: { matchLabels: { app: 'raw' } },
        strategy: { rollingUpdate: { maxSurge: kplus.k8s.IntOrString.fromString('25%') } },
        template: {
          metadata: { labels: { app: 'raw' } },
          spec: {
            containers: [{
              name: 'app',
              image: 'example/app:1',
              ports: [{ containerPort: 9093 }],
              resources: { limits: { memory: kplus.k8s.Quantity.fromString('64Mi') } },
            }],
          },
        },
      },
    });
    new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromApiObject(raw), upstreamPort: 9093 });

    const deployment = onlyOfKind(synth(chart), 'Deployment');
    expect(deployment.spec.strategy.rollingUpdate.maxSurge).toBe('25%');
    expect(containerOf(deployment, 'app').resources.limits.memory).toBe('64Mi');
    expect(containerOf(deployment, 'nginx').resources.limits.memory).toBe('128Mi');
    expect(podSpecOf(deployment).volumes.find((v: any) => v.name === 'nginx-state').emptyDir.sizeLimit).toBe('320Mi');
  });

  test('attaches to an object brought in with Include and remaps its Service by port name', () => {
    const chart = Testing.chart();
    const included = new Include(chart, 'included', { url: INCLUDED });
    const deployment = included.apiObjects.find((o) => o.kind === 'Deployment')!;
    const service = included.apiObjects.find((o) => o.kind === 'Service')!;
    const proxy = new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromApiObject(deployment), upstreamPort: 3000 });
    proxy.exposeVia(service);

    const manifests = synth(chart);
    expect(containerOf(onlyOfKind(manifests, 'Deployment'), 'nginx').ports[0].containerPort).toBe(8080);
    expect(onlyOfKind(manifests, 'Service').spec.ports).toEqual([
      { name: 'nginx-http', port: 8080, targetPort: 'nginx-http' },
      { name: 'metrics', port: 9100, targetPort: 9100 },
    ]);
  });

  test('puts its ConfigMaps in the namespace of a workload that names its own', () => {
    const chart = Testing.chart();
    const raw = new kplus.k8s.KubeDeployment(chart, 'raw', {
      metadata: { namespace: 'monitoring' },
      spec: {
        selector: { matchLabels: { app: 'raw' } },
        template: {
          metadata: { labels: { app: 'raw' } },
          spec: { containers: [{ name: 'app', image: 'example/app:1', ports: [{ containerPort: 9093 }] }] },
        },
      },
    });
    new NginxSidecar(chart, 'proxy', {
      target: SidecarTarget.fromApiObject(raw),
      upstreamPort: 9093,
      overrides: [StaticFile.fromString('/script.js', 'patched();\n')],
    });

    const configMaps = byKind(synth(chart), 'ConfigMap');
    expect(configMaps.map((c) => c.metadata.namespace)).toEqual(['monitoring', 'monitoring']);
  });

  test('fails when its chart would put the ConfigMaps in another namespace than the workload', () => {
    const app = Testing.app();
    const workloads = new Chart(app, 'workloads');
    const proxies = new Chart(app, 'proxies', { namespace: 'proxies' });
    const workload = appStatefulSet(workloads);

    expect(() => new NginxSidecar(proxies, 'proxy', { target: SidecarTarget.fromWorkload(workload), upstreamPort: 9093 }))
      .toThrow(/the sidecar's ConfigMap proxies\/proxy\/config.* is in namespace "proxies", but 'target' workloads\/app.* is in no namespace/);
  });

  test('fails when the object has no pod template', () => {
    const chart = Testing.chart();
    const configMap = new kplus.ConfigMap(chart, 'cm');

    expect(() => SidecarTarget.fromApiObject(ApiObject.of(configMap)))
      .toThrow(/'target' must be a workload with a pod template .*got kind "ConfigMap"/);
  });
});

describe('exposeVia', () => {
  test('remaps the Service port that reached the app and leaves the others', () => {
    const chart = Testing.chart();
    const app = appStatefulSet(chart);
    const service = new kplus.Service(chart, 'service', {
      selector: app,
      ports: [{ port: 9093, name: 'http' }, { port: 9094, name: 'other', targetPort: 9094 }],
    });
    const proxy = new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });
    proxy.exposeVia(service);

    const services = byKind(synth(chart), 'Service');
    const remapped = services.find((s) => s.metadata.name === service.name);
    expect(remapped.spec.ports).toEqual([
      { name: 'nginx-http', port: 8080, targetPort: 'nginx-http' },
      { name: 'other', port: 9094, targetPort: 9094 },
    ]);
    // the StatefulSet's own headless Service still reaches the app directly
    const headless = services.find((s) => s.metadata.name !== service.name);
    expect(headless.spec.ports).toEqual([{ name: 'http', port: 9093, targetPort: 9093 }]);
  });

  test('retargets Ingress backends of the remapped port', () => {
    const chart = Testing.chart();
    const app = appStatefulSet(chart);
    const service = new kplus.Service(chart, 'service', { selector: app, ports: [{ port: 9093, name: 'http' }] });
    const ingress = new kplus.Ingress(chart, 'ingress');
    ingress.addHostRule('am.example.com', '/', kplus.IngressBackend.fromService(service));
    const proxy = new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });
    proxy.exposeVia(service, { ingresses: [ingress] });

    const rule = onlyOfKind(synth(chart), 'Ingress').spec.rules[0];
    expect(rule.http.paths[0].backend.service).toEqual({ name: service.name, port: { name: 'nginx-http' } });
  });

  test('keeps the Service port number when asked, changing only its name and target', () => {
    const chart = Testing.chart();
    const app = appStatefulSet(chart);
    const service = new kplus.Service(chart, 'service', { selector: app, ports: [{ port: 80, targetPort: 9093 }] });
    const proxy = new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });
    proxy.exposeVia(service, { keepPortNumber: true });

    const remapped = byKind(synth(chart), 'Service').find((s) => s.metadata.name === service.name);
    expect(remapped.spec.ports).toEqual([{ name: 'nginx-http', port: 80, targetPort: 'nginx-http' }]);
  });

  test('fails when two Service ports reach the app, as both cannot be named nginx-http', () => {
    const chart = Testing.chart();
    const app = appStatefulSet(chart);
    const service = new kplus.Service(chart, 'service', {
      selector: app,
      ports: [{ port: 80, targetPort: 9093, name: 'web' }, { port: 9093, name: 'http' }],
    });
    const proxy = new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });
    proxy.exposeVia(service);

    expect(() => Testing.synth(chart)).toThrow(/has 2 ports that reach 'upstreamPort' 9093 .*keep one of them/);
  });

  test('fails when the Service is in another namespace than the workload', () => {
    const chart = Testing.chart();
    const app = appStatefulSet(chart);
    const service = new kplus.Service(chart, 'service', {
      metadata: { namespace: 'elsewhere' },
      selector: app,
      ports: [{ port: 9093 }],
    });
    const proxy = new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });

    expect(() => proxy.exposeVia(service)).toThrow(/'service' test\/service.* is in namespace "elsewhere", but 'target' .* is in no namespace/);
  });

  test('fails when no Service port reaches the app', () => {
    const chart = Testing.chart();
    const app = appStatefulSet(chart);
    const service = new kplus.Service(chart, 'service', { selector: app, ports: [{ port: 80, targetPort: 3000 }] });
    const proxy = new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });
    proxy.exposeVia(service);

    expect(() => Testing.synth(chart)).toThrow(/has no port that reaches 'upstreamPort' 9093/);
  });
});

describe('bad input', () => {
  function attach(props: Partial<ConstructorParameters<typeof NginxSidecar>[2]>, port = 9093) {
    const chart = Testing.chart();
    const app = appStatefulSet(chart, port);
    new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093, ...props });
    return chart;
  }

  test.each([
    [{ listenPort: 80 }, /'listenPort' must be an integer between 1024 and 65535 \(nginx runs without root.*got 80/],
    [{ listenPort: 70000 }, /'listenPort' must be an integer between 1024 and 65535 .*got 70000/],
    [{ compressorPort: 1023 }, /'compressorPort' must be an integer between 1024 and 65535 .*got 1023/],
    [{ upstreamPort: 1.5 }, /'upstreamPort' must be an integer between 1 and 65535, got 1.5/],
    [{ listenPort: 9093 }, /'listenPort' must differ from 'upstreamPort', both are 9093/],
    [{ compressorPort: 8080 }, /'compressorPort' 8080 must differ/],
    [{ healthPath: 'health' }, /'healthPath' must be an absolute URL path .* got "health"/],
    [{ workerProcesses: 0 }, /'workerProcesses' must be an integer between 1 and 64, got 0/],
    [{ compression: { level: 10 } }, /'compression.level' must be an integer between 1 and 9, got 10/],
    [{ compression: { types: ['text/css; evil'] } }, /'compression.types' must hold MIME types .* got "text\/css; evil"/],
    [{ cache: { maxSize: Size.kibibytes(100) } }, /'cache.maxSize' must be a whole number of MiB from 1 to 1048576 MiB, got 100 KiB/],
    [{ cache: { maxSize: Size.gibibytes(1), volumeSizeLimit: Size.gibibytes(1) } },
      /'cache.maxSize' of 1024 MiB does not fit 'cache.volumeSizeLimit' of 1024 MiB with 64 MiB left/],
    [{ timeouts: { read: Duration.days(2) } }, /'timeouts.read' must be a whole number of milliseconds from 1 ms to 86400000 ms, got 172800000 ms/],
    [{ compression: { types: [] } }, /'compression.types' must hold at least one MIME type, got \[\]/],
    [{ image: 'nginx:1.28 ' }, /'image' must be an image reference .*got "nginx:1.28 "/],
    [{ resources: { cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.millis(100) } } },
      /'resources.cpu.request' 500m must not exceed 'resources.cpu.limit' 100m/],
    [{ responseHeaders: [{ name: 'X-A', value: 'a$b' }] }, /'responseHeaders' value of X-A must be printable ASCII without '\$', got "a\$b"/],
    [{ responseHeaders: [{ name: 'X A', value: 'a' }] }, /'responseHeaders' name must be an HTTP header name, got "X A"/],
    [{ routes: [Route.cached('/a/'), Route.cached('/a/')] }, /'routes' must not repeat a path, got "\/a\/" twice/],
    [{ overrides: [StaticFile.fromString('/a.js', ''), StaticFile.fromString('/a.js', '')] }, /'overrides' must not repeat a path, got "\/a.js" twice/],
    [{ overrides: [StaticFile.fromString('/nginx-health', '')] }, /'overrides' path "\/nginx-health" clashes with 'healthPath'/],
    [{ routes: [Route.cached('/x.js', { exact: true })], overrides: [StaticFile.fromString('/x.js', '')] },
      /'routes' exact path "\/x.js" clashes with 'healthPath' or an override/],
    [{ containerName: 'Nginx' }, /'containerName' must be a DNS-1123 label .* got "Nginx"/],
  ].map(([props, message]) => [/'([^']+)'/.exec(String(message))![1], props, message as RegExp] as const))(
    'fails when %s is bad, naming it and the value', (_, props, message) => {
      expect(() => attach(props as any)).toThrow(message);
    });

  test.each([
    ['1.5 s', Duration.millis(1500), /'idleTimeout' must be a whole number of seconds .*got 1500 ms/],
    ['2 days', Duration.days(2), /'idleTimeout' must be .* to 86400000 ms, got 172800000 ms/],
  ])('fails when a WebSocket idleTimeout is %s', (_, idleTimeout, message) => {
    expect(() => Route.webSocket('/ws', { idleTimeout })).toThrow(message);
  });

  test.each([
    ['relative', 'script.js'],
    ['parent segment', '/a/../etc/passwd'],
    ['whitespace', '/a b'],
    ['semicolon', '/a;b'],
    ['brace', '/a{b'],
    ['quote', "/a'b"],
    ['directory', '/lib/'],
  ])('fails when an override path is unsafe (%s)', (_, urlPath) => {
    expect(() => StaticFile.fromString(urlPath, 'x')).toThrow(/'urlPath' must be an absolute URL path/);
    expect(() => StaticFile.fromString(urlPath, 'x')).toThrow(`got ${JSON.stringify(urlPath)}`);
  });

  test('fails when overrides do not fit in a ConfigMap', () => {
    const big = StaticFile.fromBase64('/big.bin', Buffer.alloc(900 * 1024, 7).toString('base64'));

    expect(() => attach({ overrides: [big] })).toThrow(/'overrides' need \d+ bytes in their ConfigMap, more than the/);
  });

  test('fails when attached twice to one workload', () => {
    const chart = Testing.chart();
    const app = appStatefulSet(chart);
    new NginxSidecar(chart, 'one', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });

    expect(() => new NginxSidecar(chart, 'two', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 }))
      .toThrow(/'target' .* already has an nginx sidecar/);
  });

  test('fails at synth when no container declares the upstream port', () => {
    const chart = attach({}, 3000);

    expect(() => Testing.synth(chart)).toThrow(/'upstreamPort' 9093 is not declared by any container .*\(declared: \[3000\]\)/);
  });

  test('fails at synth when the listen port is another container\'s port', () => {
    const chart = Testing.chart();
    const app = new kplus.Deployment(chart, 'app', {
      containers: [{ name: 'app', image: 'a', ports: [{ number: 9093 }, { number: 8080 }] }],
    });
    new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(app), upstreamPort: 9093 });

    expect(() => Testing.synth(chart)).toThrow(/'listenPort' 8080 is already a container port of/);
  });

  test('fails when a static file cannot be read', () => {
    expect(() => StaticFile.fromFile('/a.js', '/no/such/file.js'))
      .toThrow(/'localPath' of static file '\/a.js' cannot be read: "\/no\/such\/file.js"/);
  });

  test('fails when base64 is not base64', () => {
    expect(() => StaticFile.fromBase64('/a.png', 'not base64!')).toThrow(/'base64' of static file '\/a.png' must be standard base64 text/);
  });
});

describeWithNginx('real nginx -t', () => {
  test('accepts the defaults', () => {
    const chart = Testing.chart();
    new NginxSidecar(chart, 'proxy', { target: SidecarTarget.fromWorkload(appStatefulSet(chart)), upstreamPort: 9093 });

    expectNginxAccepts(synth(chart));
  });

  test('accepts every route kind, overrides, headers and tuning together', () => {
    const chart = Testing.chart();
    new NginxSidecar(chart, 'proxy', {
      target: SidecarTarget.fromWorkload(appStatefulSet(chart)),
      upstreamPort: 9093,
      listenPort: 8443,
      routes: [
        Route.cached('/', { exact: true, browserCacheFor: Duration.minutes(5) }),
        Route.cached('/lib/', { validFor: Duration.days(1) }),
        Route.microCached('/api/v2/', { serveStaleOnError: true }),
        Route.uncached('/-/'),
        Route.followingAppHeaders('/docs/'),
        Route.webSocket('/live/'),
      ],
      overrides: [
        StaticFile.fromString('/script.js', 'window.x = 1;\n'.repeat(200)),
        StaticFile.fromBase64('/img/logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]).toString('base64')),
      ],
      responseHeaders: SecurityHeaders.recommended(),
      timeouts: { connect: Duration.millis(500), read: Duration.minutes(3), send: Duration.seconds(5) },
      cache: { maxSize: Size.gibibytes(1), inactive: Duration.hours(6) },
      compression: { level: 4, minLength: Size.kibibytes(2) },
      clientMaxBodySize: Size.mebibytes(16),
      workerProcesses: 2,
      workerConnections: 4096,
      listenOnIpv6: true,
    });

    expectNginxAccepts(synth(chart));
  });
});

function appContainer(): kplus.ContainerProps {
  return { name: 'app', image: 'example/app:1', ports: [{ number: 9093, name: 'http' }] };
}

function chartWithApp() {
  const chart = Testing.chart();
  appStatefulSet(chart);
  return chart;
}
