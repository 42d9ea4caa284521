import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { Duration } from 'cdk8s';
import { postAlert } from '../test/e2e/support/alertmanager-api';
import { request } from '../test/e2e/support/http';
import { startStack, Stack } from '../test/e2e/support/stack';
import { STYLESHEET_PATH } from '../test/e2e/support/ui-assets';
import { freePort, layOutFiles, layOutPod, RunningNginx, startNginx } from '../test/support/nginx';

/** Everything the HTTP benchmarks load, all on 127.0.0.1. */
export interface BenchServers {
  /** AlertmanagerWithProxy with `apiMicroCache: 1s`; its Alertmanager is the "direct" target. */
  readonly micro: Stack;
  /** AlertmanagerWithProxy with its defaults (API never cached); used for memory too. */
  readonly plain: Stack;
  /** nginx serving files of the same size from disk, precompressed twins beside them. */
  readonly ceiling: RunningNginx;
  /** nginx with gzip on in front of the micro stack's Alertmanager, no cache. */
  readonly baseline: RunningNginx;
  /**
   * An experiment: the micro stack's manifests laid out once more, with one location added to
   * the compressor that serves script.js precompressed from disk. Its cache entry then has a
   * Content-Length, where the sidecar's (gzipped on the fly, so chunked) has none.
   */
  readonly contentLengthVariant: RunningNginx;
  /** The body of GET /api/v2/alerts once the benchmark alerts are loaded. */
  readonly alertsJson: Buffer;
}

export const ALERT_COUNT = 40;

/** The same basics as the sidecar's nginx.conf, so only serving and caching differ. */
function commonHttp(): string {
  return `
    default_type application/octet-stream;
    types {
        text/html html;
        text/css css;
        application/javascript js;
        application/json json;
    }
    server_tokens off;
    sendfile on;
    open_file_cache max=1000 inactive=60s;
    tcp_nodelay on;
    keepalive_timeout 65s;
    log_format bench '$remote_addr [$time_local] "$request" $status $body_bytes_sent $request_time';
    access_log /dev/stdout bench;
    client_body_temp_path tmp/client;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;`;
}

function mainBlock(http: string): string {
  return `worker_processes 1;
pid tmp/nginx.pid;
error_log stderr warn;
events {
    worker_connections 1024;
}
http {${commonHttp()}
${http}
}
`;
}

export async function startBenchServers(): Promise<BenchServers> {
  const [micro, plain] = await Promise.all([
    startStack({ apiMicroCache: Duration.seconds(1) }),
    startStack(),
  ]);
  // the same alerts in both, so /api/v2/alerts answers alike
  for (const stack of [micro, plain]) {
    for (let i = 0; i < ALERT_COUNT; i++) {
      const answer = await postAlert(stack.alertmanagerUrl, `bench-${String(i).padStart(3, '0')}`);
      if (answer.status !== 200) {
        throw new Error(`loading alerts: POST answered ${answer.status}`);
      }
    }
  }
  const alertsJson = (await request(`${micro.alertmanagerUrl}/api/v2/alerts`)).body;

  const [ceilingPort, baselinePort] = [await freePort(), await freePort()];
  const ceilingLayout = layOutFiles({
    config: mainBlock(`
    server {
        listen 127.0.0.1:${ceilingPort};
        root files;
        gzip_static on;
        location /api/v2/alerts {
            default_type application/json;
            try_files /alerts.json =404;
        }
    }`),
  });
  const files = new Map<string, Buffer>([
    ['script.js', micro.ui.files.get('/script.js')!],
    [STYLESHEET_PATH.slice(1), micro.ui.files.get(STYLESHEET_PATH)!],
    ['alerts.json', alertsJson],
  ]);
  for (const [file, content] of files) {
    const target = path.join(ceilingLayout.root, 'files', file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
    // at the sidecar's level, so both send the same compressed bytes
    fs.writeFileSync(`${target}.gz`, zlib.gzipSync(content, { level: 6 }));
  }

  const alertmanagerPort = new URL(micro.alertmanagerUrl).port;
  const baselineLayout = layOutFiles({
    config: mainBlock(`
    gzip on;
    gzip_comp_level 6;
    gzip_min_length 1024;
    gzip_types text/css application/javascript text/javascript application/json text/plain image/svg+xml application/xml text/xml;
    gzip_vary on;
    gzip_proxied any;
    upstream alertmanager {
        server 127.0.0.1:${alertmanagerPort};
        keepalive 32;
    }
    server {
        listen 127.0.0.1:${baselinePort};
        location / {
            proxy_pass http://alertmanager;
            proxy_http_version 1.1;
            proxy_set_header Connection '';
            proxy_set_header Host $http_host;
            proxy_set_header Accept-Encoding '';
        }
    }`),
  });

  const [ceiling, baseline, contentLengthVariant] = await Promise.all([
    startNginx(ceilingLayout, { port: ceilingPort }),
    startNginx(baselineLayout, { port: baselinePort }),
    startContentLengthVariant(micro),
  ]);
  return { micro, plain, ceiling, baseline, contentLengthVariant, alertsJson };
}

async function startContentLengthVariant(stack: Stack): Promise<RunningNginx> {
  const [listen, compressor] = [await freePort(), await freePort()];
  // the compressor's server comes first in the rendered config, the public one second
  const [compressorPort, listenPort] = [...stack.nginxConf.matchAll(/listen (?:127\.0\.0\.1:)?(\d+);/g)].map((m) => Number(m[1]));
  const layout = layOutPod(stack.manifests, {
    ports: { 9093: Number(new URL(stack.alertmanagerUrl).port), [compressorPort]: compressor, [listenPort]: listen },
  });
  const dir = path.join(layout.root, 'precompressed');
  fs.mkdirSync(dir, { mode: 0o755 });
  const script = stack.ui.files.get('/script.js')!;
  fs.writeFileSync(path.join(dir, 'script.js'), script);
  fs.writeFileSync(path.join(dir, 'script.js.gz'), zlib.gzipSync(script, { level: 6 }));
  const text = fs.readFileSync(layout.runConfigPath, 'utf-8');
  const marker = `listen 127.0.0.1:${compressor};`;
  if (!text.includes(marker)) {
    throw new Error(`no '${marker}' in ${layout.runConfigPath}`);
  }
  fs.writeFileSync(layout.runConfigPath, text.replace(marker,
    `${marker}\n        location = /script.js { root ${dir}; gzip_static on; default_type application/javascript; }`));
  return startNginx(layout, { port: listen });
}
