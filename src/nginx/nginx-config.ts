import { Duration, Size } from 'cdk8s';
import { nginxSize, nginxTime } from './_validate';
import { NginxConfigFile, NginxDirective } from './directive';
import { CompressionOptions, ProxyTimeouts, ResponseHeader, SidecarPaths } from './options';
import { CacheBehavior, Route } from './route';
import { StaticFile } from './static-file';

/**
 * Everything nginx.conf is rendered from, already validated and defaulted.
 */
export interface NginxConfigPlan {
  readonly listenPort: number;
  readonly listenOnIpv6: boolean;
  readonly compressorPort: number;
  readonly upstreamPort: number;
  readonly healthPath: string;
  readonly workerProcesses: number;
  readonly workerConnections: number;
  readonly timeouts: Required<ProxyTimeouts>;
  readonly cache: { readonly maxSize: Size; readonly inactive: Duration };
  readonly compression: Required<CompressionOptions>;
  readonly clientMaxBodySize: Size;
  readonly routes: Route[];
  readonly overrides: PlannedOverride[];
  readonly responseHeaders: ResponseHeader[];
}

/**
 * A static file, mounted at its URL path below the overrides directory.
 */
export interface PlannedOverride {
  readonly file: StaticFile;
  /** Whether a gzip-compressed copy lies beside it, its name ending in `.gz`. */
  readonly precompressed: boolean;
}

export const DEFAULT_COMPRESSED_TYPES = [
  'text/css',
  'application/javascript',
  'text/javascript',
  'application/json',
  'text/plain',
  'image/svg+xml',
  'application/xml',
  'text/xml',
];

const CACHE_ZONE = 'sidecar_cache';
const APP_UPSTREAM = 'sidecar_app';
const COMPRESSOR_UPSTREAM = 'sidecar_compressor';
const GZIP_VARIANT = '$sidecar_gzip_variant';
const UPSTREAM_FAILED = '$sidecar_upstream_failed';
const CONNECTION_UPGRADE = '$sidecar_connection_upgrade';

const simple = NginxDirective.simple;
const block = NginxDirective.block;

/*
 * Directives that never change are built once and shared by every sidecar's config.
 */

// an explicit types map keeps the config independent of the image's /etc/nginx/mime.types
const MIME_TYPES = block('types', [], [
  simple('text/html', 'html', 'htm'),
  simple('text/css', 'css'),
  simple('application/javascript', 'js', 'mjs'),
  simple('application/json', 'json', 'map'),
  simple('text/plain', 'txt'),
  simple('image/svg+xml', 'svg'),
  simple('image/png', 'png'),
  simple('image/jpeg', 'jpg', 'jpeg'),
  simple('image/gif', 'gif'),
  simple('image/x-icon', 'ico'),
  simple('font/woff2', 'woff2'),
]);

const VARIABLE_MAPS = [
  // one cache entry per encoding, whatever the exact Accept-Encoding text of the client
  block('map', ['$http_accept_encoding', GZIP_VARIANT], [
    simple('default', ''),
    simple('~*gzip', 'gzip'),
  ]),
  // a 5xx answer is never stored, whatever headers the app sent with it
  block('map', ['$upstream_status', UPSTREAM_FAILED], [
    simple('default', '0'),
    simple('~^5', '1'),
  ]),
];

// an upgrade asks the app for a WebSocket; a plain request keeps the kept-alive connection
const WEB_SOCKET_MAP = block('map', ['$http_upgrade', CONNECTION_UPGRADE], [
  simple('default', 'upgrade'),
  simple('', ''),
]);

// an empty Connection header lets nginx keep its connections to the app alive
const KEEPALIVE_CONNECTION = simple('proxy_set_header', 'Connection', '');

const FORWARDED_HEADERS = [
  simple('proxy_set_header', 'Host', '$http_host'),
  simple('proxy_set_header', 'X-Real-IP', '$remote_addr'),
  simple('proxy_set_header', 'X-Forwarded-For', '$proxy_add_x_forwarded_for'),
  simple('proxy_set_header', 'X-Forwarded-Proto', '$scheme'),
];


/**
 * Renders nginx.conf for the sidecar.
 *
 * Two server blocks: the public one on the listen port, and a compressor on loopback that
 * gzips answers before the public server caches them. Cached routes then keep one compressed
 * and one plain copy of each answer, and gzip runs once per entry instead of once per request.
 */
export function renderNginxConfig(plan: NginxConfigPlan): string {
  // charts often hold many sidecars with the same props: render each distinct plan once
  const key = JSON.stringify(plan, (_, value) => {
    if (!(value instanceof StaticFile)) {
      return value;
    }
    const { urlPath, contentType, browserCacheFor } = value;
    return { urlPath, contentType, browserCacheFor };
  });
  let text = renderedConfigs.get(key);
  if (text === undefined) {
    text = buildNginxConfig(plan).render();
    if (renderedConfigs.size >= 256) {
      renderedConfigs.clear();
    }
    renderedConfigs.set(key, text);
  }
  return text;
}

const renderedConfigs = new Map<string, string>();

/** The directive tree of nginx.conf, for tests that compare it with what nginx parses. */
export function buildNginxConfig(plan: NginxConfigPlan): NginxConfigFile {
  const state = SidecarPaths.STATE_DIR;
  return new NginxConfigFile([
    simple('worker_processes', String(plan.workerProcesses)),
    simple('pid', `${state}/nginx.pid`),
    simple('error_log', 'stderr', 'warn'),
    block('events', [], [simple('worker_connections', String(plan.workerConnections))]),
    block('http', [], [
      ...httpBasics(plan),
      ...compression(plan.compression),
      ...proxyDefaults(plan),
      ...VARIABLE_MAPS,
      ...(plan.routes.some((r) => r.webSocketIdleTimeout) ? [WEB_SOCKET_MAP] : []),
      block('upstream', [APP_UPSTREAM], [
        simple('server', `127.0.0.1:${plan.upstreamPort}`),
        simple('keepalive', '32'),
      ]),
      block('upstream', [COMPRESSOR_UPSTREAM], [
        simple('server', `127.0.0.1:${plan.compressorPort}`),
        simple('keepalive', '32'),
      ]),
      compressorServer(plan),
      publicServer(plan),
    ]),
  ]);
}

function httpBasics(plan: NginxConfigPlan): NginxDirective[] {
  const state = SidecarPaths.STATE_DIR;
  return [
    MIME_TYPES,
    simple('default_type', 'application/octet-stream'),
    simple('server_tokens', 'off'),
    simple('sendfile', 'on'),
    // keeps cache entries and overrides open between hits (measured: about a quarter more
    // cached answers a second); a replaced cache entry is reopened, as nginx checks its inode
    simple('open_file_cache', 'max=1000', 'inactive=60s'),
    // tcp_nopush is left off: with sendfile it stalled cached answers on kept-alive connections
    simple('tcp_nodelay', 'on'),
    simple('keepalive_timeout', '65s'),
    simple('log_format', 'sidecar',
      '$remote_addr [$time_local] "$request" $status $body_bytes_sent '
      + '$request_time cache=$upstream_cache_status upstream=$upstream_response_time'),
    simple('access_log', '/dev/stdout', 'sidecar'),
    simple('client_max_body_size', nginxSize(plan.clientMaxBodySize)),
    simple('client_body_buffer_size', '128k'),
    simple('client_body_temp_path', `${state}/client_temp`),
    simple('proxy_temp_path', `${state}/proxy_temp`),
    simple('fastcgi_temp_path', `${state}/fastcgi_temp`),
    simple('uwsgi_temp_path', `${state}/uwsgi_temp`),
    simple('scgi_temp_path', `${state}/scgi_temp`),
    simple('proxy_cache_path', `${state}/proxy_cache`,
      'levels=1:2',
      `keys_zone=${CACHE_ZONE}:10m`,
      `max_size=${nginxSize(plan.cache.maxSize)}`,
      `inactive=${nginxTime(plan.cache.inactive)}`,
      'use_temp_path=off'),
  ];
}

function compression(options: Required<CompressionOptions>): NginxDirective[] {
  return [
    simple('gzip', 'on'),
    simple('gzip_comp_level', String(options.level)),
    simple('gzip_min_length', String(options.minLength.toKibibytes() * 1024)),
    simple('gzip_types', ...options.types),
    simple('gzip_vary', 'on'),
    // requests that reached us through another proxy are compressed too
    simple('gzip_proxied', 'any'),
  ];
}

function proxyDefaults(plan: NginxConfigPlan): NginxDirective[] {
  return [
    simple('proxy_http_version', '1.1'),
    simple('proxy_connect_timeout', nginxTime(plan.timeouts.connect)),
    simple('proxy_read_timeout', nginxTime(plan.timeouts.read)),
    simple('proxy_send_timeout', nginxTime(plan.timeouts.send)),
    // buffering frees the app's connection as soon as it has answered; caching also needs it
    simple('proxy_buffering', 'on'),
    simple('proxy_buffer_size', '16k'),
    simple('proxy_buffers', '32', '16k'),
    simple('proxy_busy_buffers_size', '64k'),
    simple('proxy_cache_key', `$scheme$http_host$request_uri${GZIP_VARIANT}`),
    simple('proxy_cache_methods', 'GET', 'HEAD'),
    simple('proxy_no_cache', UPSTREAM_FAILED),
  ];
}

function compressorServer(plan: NginxConfigPlan): NginxDirective {
  return block('server', [], [
    simple('listen', `127.0.0.1:${plan.compressorPort}`),
    simple('access_log', 'off'),
    // the public server already set the forwarding headers; pass them on unchanged
    simple('proxy_set_header', 'Connection', ''),
    simple('proxy_set_header', 'Host', '$http_host'),
    simple('proxy_set_header', 'X-Real-IP', '$http_x_real_ip'),
    simple('proxy_set_header', 'X-Forwarded-For', '$http_x_forwarded_for'),
    simple('proxy_set_header', 'X-Forwarded-Proto', '$http_x_forwarded_proto'),
    // the app sends plain text; this server compresses it for the client that asked
    simple('proxy_set_header', 'Accept-Encoding', ''),
    block('location', ['/'], [simple('proxy_pass', `http://${APP_UPSTREAM}`)]),
  ]);
}

function publicServer(plan: NginxConfigPlan): NginxDirective {
  const headers = [
    simple('add_header', 'X-Proxy-Cache', '$upstream_cache_status', 'always'),
    ...plan.responseHeaders.map((h) => simple('add_header', h.name, h.value, 'always')),
  ];
  const hasCatchAll = plan.routes.some((r) => r.path === '/' && !r.exact);
  const routes = hasCatchAll ? plan.routes : [...plan.routes, Route.followingAppHeaders('/')];
  return block('server', [], [
    simple('listen', String(plan.listenPort)),
    ...(plan.listenOnIpv6 ? [simple('listen', `[::]:${plan.listenPort}`)] : []),
    // add_header lives on this level only: a location with its own add_header would hide these
    ...headers,
    block('location', ['=', plan.healthPath], [
      simple('access_log', 'off'),
      simple('default_type', 'text/plain'),
      simple('return', '200', 'ok'),
    ]),
    ...plan.overrides.map(overrideLocation),
    ...routes.map(routeLocation),
  ]);
}

function overrideLocation(override: PlannedOverride): NginxDirective {
  const file = override.file;
  return block('location', ['=', file.urlPath], [
    // the file lies at the same path below the overrides directory
    simple('root', SidecarPaths.OVERRIDES_DIR),
    block('types', [], []),
    simple('default_type', file.contentType),
    ...(override.precompressed ? [simple('gzip_static', 'on')] : []),
    ...browserCaching(file.browserCacheFor),
  ]);
}

function routeLocation(route: Route): NginxDirective {
  const match = route.exact ? ['=', route.path] : [route.path];
  return block('location', match, [...routeBody(route), ...browserCaching(route.browserCacheFor)]);
}

function routeBody(route: Route): NginxDirective[] {
  switch (route.behavior) {
    case CacheBehavior.STATIC:
    case CacheBehavior.MICRO:
      return storedRoute(route);
    case CacheBehavior.APP_HEADERS:
      return [
        simple('proxy_pass', `http://${APP_UPSTREAM}`),
        KEEPALIVE_CONNECTION,
        ...FORWARDED_HEADERS,
        simple('proxy_set_header', 'Accept-Encoding', ''),
        simple('proxy_cache', CACHE_ZONE),
        // a shared cache must not hand one user's authorized answer to another (RFC 9111 3.5);
        // nginx ignores Authorization, so such requests skip the cache both ways
        simple('proxy_cache_bypass', '$http_authorization'),
        simple('proxy_no_cache', UPSTREAM_FAILED, '$http_authorization'),
      ];
    case CacheBehavior.NONE:
      return uncachedRoute(route.webSocketIdleTimeout);
  }
}

/** A route whose answers are kept for a fixed time, in one copy per encoding. */
function storedRoute(route: Route): NginxDirective[] {
  const stale = ['updating'];
  if (route.serveStaleOnError) {
    stale.push('error', 'timeout', 'http_500', 'http_502', 'http_503', 'http_504');
  }
  return [
    simple('proxy_pass', `http://${COMPRESSOR_UPSTREAM}`),
    KEEPALIVE_CONNECTION,
    ...FORWARDED_HEADERS,
    simple('proxy_set_header', 'Accept-Encoding', GZIP_VARIANT),
    simple('proxy_cache', CACHE_ZONE),
    simple('proxy_cache_valid', '200', nginxTime(route.validFor!)),
    // the key already separates encodings, and the app's no-cache headers are what we override
    simple('proxy_ignore_headers', 'Cache-Control', 'Expires', 'Vary'),
    simple('proxy_cache_lock', 'on'),
    simple('proxy_cache_lock_timeout', '5s'),
    simple('proxy_cache_use_stale', ...stale),
    // a background refresh would hand the first reader after a quiet spell an old answer,
    // which a micro-cache of dynamic data must not do
    simple('proxy_cache_background_update', route.behavior === CacheBehavior.STATIC ? 'on' : 'off'),
  ];
}

/** A route that is never cached; with an idle timeout it also passes WebSocket upgrades. */
function uncachedRoute(webSocketIdleTimeout: Duration | undefined): NginxDirective[] {
  const connection = webSocketIdleTimeout
    ? [
      // hop-by-hop headers: nginx forwards neither unless told to
      simple('proxy_set_header', 'Upgrade', '$http_upgrade'),
      simple('proxy_set_header', 'Connection', CONNECTION_UPGRADE),
    ]
    : [KEEPALIVE_CONNECTION];
  // nginx closes an upgraded connection once it has been silent for the read or send timeout
  const idleTimeouts = webSocketIdleTimeout
    ? [
      simple('proxy_read_timeout', nginxTime(webSocketIdleTimeout)),
      simple('proxy_send_timeout', nginxTime(webSocketIdleTimeout)),
    ]
    : [];
  return [
    simple('proxy_pass', `http://${APP_UPSTREAM}`),
    ...connection,
    ...FORWARDED_HEADERS,
    simple('proxy_set_header', 'Accept-Encoding', ''),
    simple('proxy_cache', 'off'),
    ...idleTimeouts,
  ];
}

function browserCaching(lifetime: Duration | undefined): NginxDirective[] {
  if (!lifetime) {
    return [];
  }
  return [
    simple('proxy_hide_header', 'Cache-Control'),
    simple('proxy_hide_header', 'Expires'),
    simple('proxy_hide_header', 'Pragma'),
    simple('expires', nginxTime(lifetime)),
  ];
}
