import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import {
  checkNginxConfig, describeWithAlertmanager, describeWithNginx, expectNginxConfigValid,
  freePort, layOutPod, startAlertmanager, startNginx,
} from './nginx';
import { describeWith, requireTool, testWith, toolPath } from './processes';

const CONTAINER_CONFIG = `
pid /var/cache/nginx/nginx.pid;
error_log stderr notice;
worker_processes 1;
events { worker_connections 64; }
http {
    access_log /dev/stdout;
    client_body_temp_path /var/cache/nginx/client_temp;
    proxy_temp_path /var/cache/nginx/proxy_temp;
    fastcgi_temp_path /var/cache/nginx/fastcgi_temp;
    uwsgi_temp_path /var/cache/nginx/uwsgi_temp;
    scgi_temp_path /var/cache/nginx/scgi_temp;
    include /nginx/server.conf;
}
`;

const SERVER_CONFIG = `
server {
    listen 8080;
    location = /script.js { root /usr/share/nginx/html; }
    location / { return 200 "from the pod\\n"; }
}
`;

/** A Deployment whose nginx container mounts two ConfigMaps, a Secret and an emptyDir. */
function podObjects(): any[] {
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'app', image: 'app', volumeMounts: [{ name: 'cache', mountPath: '/x' }] },
              {
                name: 'nginx',
                image: 'nginx:stable',
                args: ['-g', 'daemon off;', '-c', '/nginx/nginx.conf'],
                volumeMounts: [
                  { name: 'config', mountPath: '/nginx' },
                  { name: 'html', mountPath: '/usr/share/nginx/html' },
                  { name: 'cache', mountPath: '/var/cache/nginx' },
                  { name: 'tls', mountPath: '/etc/tls/' },
                ],
              },
            ],
            volumes: [
              {
                name: 'config',
                configMap: {
                  name: 'web-config',
                  items: [
                    { key: 'nginx.conf', path: 'nginx.conf', mode: 0o666 },
                    { key: 'server.conf', path: 'server.conf' },
                  ],
                },
              },
              { name: 'html', configMap: { name: 'web-html', defaultMode: 0o444 } },
              { name: 'cache', emptyDir: {} },
              { name: 'tls', secret: { secretName: 'web-tls' } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-config' },
      data: { 'nginx.conf': CONTAINER_CONFIG, 'server.conf': SERVER_CONFIG, 'unused': 'x' },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-html' },
      data: { 'script.js': 'patched();\n' },
      binaryData: { 'favicon.ico': Buffer.from([0, 1, 2]).toString('base64') },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'web-tls' },
      data: { 'tls.key': Buffer.from('key').toString('base64') },
      stringData: { 'tls.crt': 'cert' },
    },
  ];
}

function handWritten(port: number, extra = ''): string {
  return [
    'pid tmp/nginx.pid;',
    'error_log stderr notice;',
    'worker_processes 1;',
    'events { worker_connections 64; }',
    'http {',
    '    access_log /dev/stdout;',
    '    client_body_temp_path tmp/client_temp;',
    '    proxy_temp_path tmp/proxy_temp;',
    '    fastcgi_temp_path tmp/fastcgi_temp;',
    '    uwsgi_temp_path tmp/uwsgi_temp;',
    '    scgi_temp_path tmp/scgi_temp;',
    extra,
    `    server { listen 127.0.0.1:${port}; location / { return 200 "hello\\n"; } }`,
    '}',
    '',
  ].join('\n');
}

async function get(url: string): Promise<{ status?: number; body: string }> {
  return new Promise((resolve, reject) => {
    // no keep-alive: a pooled socket to a stopped server would hang up instead of refusing
    http.get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode, body }));
    }).on('error', reject);
  });
}

/** Permission bits as octal digits, for example '644'. */
function modeOf(file: string): string {
  return fs.statSync(file).mode.toString(8).slice(-3);
}

describe('layOutPod', () => {
  test('writes each volume of the nginx container and maps its mount paths', () => {
    const layout = layOutPod(podObjects());

    expect(layout.configPath).toBe('/nginx/nginx.conf');
    expect(layout.args).toEqual(['-g', 'daemon off;', '-c', '/nginx/nginx.conf']);
    expect(Object.keys(layout.mountMap).sort())
      .toEqual(['/etc/tls', '/nginx', '/usr/share/nginx/html', '/var/cache/nginx']);
    const config = layout.mountMap['/nginx'];
    expect(fs.readdirSync(config).sort())
      .toEqual(['nginx.conf', 'nginx.conf.host', 'server.conf', 'server.conf.host']);
    expect(modeOf(path.join(config, 'nginx.conf'))).toBe('666');
    expect(modeOf(path.join(config, 'server.conf'))).toBe('644');
    expect(modeOf(config)).toBe('555');
    const html = layout.mountMap['/usr/share/nginx/html'];
    expect(fs.readFileSync(path.join(html, 'script.js'), 'utf8')).toBe('patched();\n');
    expect([...fs.readFileSync(path.join(html, 'favicon.ico'))]).toEqual([0, 1, 2]);
    expect(modeOf(path.join(html, 'script.js'))).toBe('444');
    const tls = layout.mountMap['/etc/tls'];
    expect(fs.readFileSync(path.join(tls, 'tls.key'), 'utf8')).toBe('key');
    expect(fs.readFileSync(path.join(tls, 'tls.crt'), 'utf8')).toBe('cert');
    expect(modeOf(layout.mountMap['/var/cache/nginx'])).toBe('777');
    expect(fs.readdirSync(layout.mountMap['/var/cache/nginx'])).toEqual([]);
  });

  test('rewrites whole mount paths, longest first, and leaves the original config alone', () => {
    const layout = layOutPod(podObjects());
    const { mountMap } = layout;

    const run = fs.readFileSync(layout.runConfigPath, 'utf8');

    expect(fs.readFileSync(layout.hostConfigPath, 'utf8')).toBe(CONTAINER_CONFIG);
    expect(run).toContain(`pid ${mountMap['/var/cache/nginx']}/nginx.pid;`);
    expect(run).toContain(`include ${mountMap['/nginx']}/server.conf.host;`);
    const server = fs.readFileSync(path.join(mountMap['/nginx'], 'server.conf.host'), 'utf8');
    expect(server).toContain(`root ${mountMap['/usr/share/nginx/html']};`);
    expect(layout.rewrite('/nginxfoo /usr/share/nginx /nginx')).toBe(
      `/nginxfoo /usr/share/nginx ${mountMap['/nginx']}`);
  });

  test('moves ports when asked', () => {
    const layout = layOutPod(podObjects(), { ports: { 8080: 18080, 9093: 19093 } });

    expect(layout.rewrite('listen 8080;\nlisten [::]:8080;\nproxy_pass http://localhost:9093/;'))
      .toBe('listen 18080;\nlisten [::]:18080;\nproxy_pass http://localhost:19093/;');
  });

  test('fails when no container has the name', () => {
    expect(() => layOutPod(podObjects(), { containerName: 'proxy' }))
      .toThrow(/no workload in the manifests has a container named 'proxy'/);
  });

  test('fails when a mounted ConfigMap is missing', () => {
    const objects = podObjects().filter((o) => o.metadata.name !== 'web-html');

    expect(() => layOutPod(objects)).toThrow(/volume 'html' needs ConfigMap 'web-html'/);
  });
});

describe('tool lookup', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });

  test('reports a missing tool with the package that brings it', () => {
    process.env.NGINX_BIN = '/nonexistent/nginx';

    expect(toolPath('nginx')).toBeUndefined();
    expect(() => requireTool('nginx')).toThrow(/apt-get install nginx-light/);
  });

  test('skips with the reason in the title off CI', () => {
    process.env.NGINX_BIN = '/nonexistent/nginx';
    const skip = jest.spyOn(test, 'skip').mockImplementation(() => undefined);
    const describeSkip = jest.spyOn(describe, 'skip').mockImplementation(() => undefined);

    process.env.CI = 'false';
    testWith(['nginx'], 'probe', () => undefined);
    describeWith(['nginx'], 'group', () => undefined);

    expect(skip).toHaveBeenCalledWith(
      'probe (skipped: nginx not installed)', expect.any(Function), undefined);
    expect(describeSkip).toHaveBeenCalledWith(
      'group (skipped: nginx not installed)', expect.any(Function));
  });

  test('runs the tests under CI even without the tool, so they fail', () => {
    process.env.NGINX_BIN = '/nonexistent/nginx';
    process.env.CI = 'true';
    const skip = jest.spyOn(describe, 'skip').mockImplementation(() => undefined);
    const describeSpy = jest.spyOn(global, 'describe').mockImplementation(() => undefined);

    describeWith(['nginx'], 'group', () => undefined);

    expect(describeSpy).toHaveBeenCalledWith('group', expect.any(Function));
    expect(skip).not.toHaveBeenCalled();
  });
});

describeWithNginx('checkNginxConfig', () => {
  test('accepts a valid hand-written config', async () => {
    const result = checkNginxConfig({ config: handWritten(await freePort()) });

    expect(result.output).toMatch(/test is successful/);
    expect(result.ok).toBe(true);
  });

  test('fails with nginx output on an unknown directive', async () => {
    const config = handWritten(await freePort(), '    no_such_directive on;');

    expect(checkNginxConfig({ config }).ok).toBe(false);
    expect(() => expectNginxConfigValid({ config }))
      .toThrow(/unknown directive "no_such_directive"/);
  });

  test('accepts the config laid out from manifests', () => {
    expect(() => expectNginxConfigValid(layOutPod(podObjects()))).not.toThrow();
  });
});

describeWithNginx('startNginx', () => {
  test('serves until stopped, logging requests to its stdout', async () => {
    const nginx = await startNginx({ config: handWritten(await freePort()) });

    const response = await get(`${nginx.url}/`);
    await nginx.stop();

    expect(response).toEqual({ status: 200, body: 'hello\n' });
    expect(nginx.exited).toBe(true);
    expect(nginx.stdout()).toMatch(/"GET \/ HTTP\/1.1" 200/);
    await expect(get(`${nginx.url}/`)).rejects.toThrow(/ECONNREFUSED/);
  });

  test('serves a pod laid out from manifests on a moved port', async () => {
    const port = await freePort();
    const layout = layOutPod(podObjects(), { ports: { 8080: port } });

    const nginx = await startNginx(layout);

    expect(nginx.port).toBe(port);
    expect(await get(`${nginx.url}/script.js`)).toEqual({ status: 200, body: 'patched();\n' });
    expect(await get(`${nginx.url}/`)).toEqual({ status: 200, body: 'from the pod\n' });
  });

  test('fails with the logs when nginx cannot write its pid file', async () => {
    const objects = podObjects();
    objects[1].data['nginx.conf'] = CONTAINER_CONFIG.replace(
      'pid /var/cache/nginx/nginx.pid', 'pid /nginx/nginx.pid');
    const layout = layOutPod(objects, { ports: { 8080: await freePort() } });

    // nginx runs unprivileged even when the tests run as root, so the read-only mount bites
    await expect(startNginx(layout)).rejects.toThrow(/exited before TCP[\s\S]*nginx\.pid/);
  });
});

describeWithAlertmanager('startAlertmanager', () => {
  test('answers on its port with the stand-in UI, behind nginx too', async () => {
    const alertmanager = await startAlertmanager();
    const config = handWritten(await freePort()).replace(
      'return 200 "hello\\n";', `proxy_pass http://127.0.0.1:${alertmanager.port};`);
    const nginx = await startNginx({ config });

    const direct = await get(`${alertmanager.url}/script.js`);
    const proxied = await get(`${nginx.url}/api/v2/status`);
    await alertmanager.stop();

    expect(direct.status).toBe(200);
    expect(direct.body).toMatch(/stand-in/);
    expect(proxied.status).toBe(200);
    expect(JSON.parse(proxied.body).cluster.status).toBe('disabled');
    expect(alertmanager.exited).toBe(true);
  });
});
