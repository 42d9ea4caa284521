import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import type { NginxSidecarProps } from './nginx-sidecar';
import {
  assertDuration,
  assertIntegerInRange,
  MAX_VALUE_LENGTH,
  assertPort,
  assertSize,
  assertUrlPath,
  LIFETIME,
  ONE_DAY_MS,
} from '../nginx/_validate';
import { DEFAULT_COMPRESSED_TYPES, NginxConfigPlan } from '../nginx/nginx-config';
import { CompressionOptions, ProxyCacheOptions, ResponseHeader } from '../nginx/options';
import { Route } from '../nginx/route';
import { StaticFile } from '../nginx/static-file';

/** Room in the state volume beside the cache: temporary files and the pid file. */
export const STATE_HEADROOM = Size.mebibytes(64);
const MIB = 1024;
const GIB = 1024 * MIB;
const TIB = 1024 * GIB;
/** nginx runs without root and with every capability dropped, so it binds 1024 and up only. */
const FIRST_UNPRIVILEGED_PORT = 1024;

/** The plan plus what the sidecar needs beside nginx.conf. */
export interface SidecarPlan extends NginxConfigPlan {
  readonly image: string;
  readonly stateVolumeSizeLimit: Size;
  readonly resources: any;
}

/**
 * Validates props and fills in defaults. Every refusal names the prop and shows the value.
 */
export function planSidecar(props: NginxSidecarProps): SidecarPlan {
  const ports = planPorts(props);
  const healthPath = props.healthPath ?? '/nginx-health';
  assertUrlPath('healthPath', healthPath, { allowTrailingSlash: false });
  const workerProcesses = props.workerProcesses ?? 1;
  assertIntegerInRange('workerProcesses', workerProcesses, 1, 64);
  const workerConnections = props.workerConnections ?? 1024;
  assertIntegerInRange('workerConnections', workerConnections, 16, 65536);
  const clientMaxBodySize = props.clientMaxBodySize ?? Size.mebibytes(4);
  assertSize('clientMaxBodySize', clientMaxBodySize, 1, GIB);

  const compression = planCompression(props.compression ?? {});
  const cache = planCache(props.cache ?? {});
  const overrides = props.overrides ?? [];
  const routes = props.routes ?? [];
  checkPaths(routes, overrides, healthPath, compression);
  const responseHeaders = props.responseHeaders ?? [];
  responseHeaders.forEach(checkHeader);

  return {
    ...ports,
    listenOnIpv6: props.listenOnIpv6 ?? false,
    healthPath,
    workerProcesses,
    workerConnections,
    timeouts: planTimeouts(props),
    cache: { maxSize: cache.maxSize, inactive: cache.inactive },
    compression,
    clientMaxBodySize,
    routes,
    overrides: overrides.map((file) => ({
      file,
      precompressed: shouldPrecompress(file, compression),
    })),
    responseHeaders,
    image: planImage(props.image),
    stateVolumeSizeLimit: cache.volumeSizeLimit,
    resources: resourcesManifest(props.resources),
  };
}

function planPorts(props: NginxSidecarProps) {
  const upstreamPort = props.upstreamPort;
  const listenPort = props.listenPort ?? 8080;
  const compressorPort = props.compressorPort ?? listenPort + 1;
  assertPort('upstreamPort', upstreamPort);
  assertPort('listenPort', listenPort, FIRST_UNPRIVILEGED_PORT);
  assertPort('compressorPort', compressorPort, FIRST_UNPRIVILEGED_PORT);
  if (listenPort === upstreamPort) {
    throw new Error(`'listenPort' must differ from 'upstreamPort', both are ${listenPort}`);
  }
  if (compressorPort === upstreamPort || compressorPort === listenPort) {
    throw new Error(
      `'compressorPort' ${compressorPort} must differ from 'listenPort' and 'upstreamPort'`,
    );
  }
  return { upstreamPort, listenPort, compressorPort };
}

function planTimeouts(props: NginxSidecarProps) {
  const timeouts = {
    connect: props.timeouts?.connect ?? Duration.seconds(2),
    read: props.timeouts?.read ?? Duration.seconds(60),
    send: props.timeouts?.send ?? Duration.seconds(30),
  };
  for (const [name, value] of Object.entries(timeouts)) {
    assertDuration(`timeouts.${name}`, value, { minMillis: 1, maxMillis: ONE_DAY_MS });
  }
  return timeouts;
}

function planCache(options: ProxyCacheOptions) {
  const maxSize = options.maxSize ?? Size.mebibytes(256);
  const maxSizeKib = assertSize('cache.maxSize', maxSize, MIB, TIB, MIB);
  const inactive = options.inactive ?? Duration.days(1);
  assertDuration('cache.inactive', inactive, LIFETIME);
  const headroomKib = STATE_HEADROOM.toKibibytes();
  const volumeSizeLimit = options.volumeSizeLimit ?? Size.kibibytes(maxSizeKib + headroomKib);
  const volumeKib = assertSize('cache.volumeSizeLimit', volumeSizeLimit, MIB, 2 * TIB, MIB);
  if (maxSizeKib + headroomKib > volumeKib) {
    throw new Error(
      `'cache.maxSize' of ${maxSizeKib / MIB} MiB does not fit 'cache.volumeSizeLimit' of `
      + `${volumeKib / MIB} MiB with ${headroomKib / MIB} MiB left for temporary files`,
    );
  }
  return { maxSize, inactive, volumeSizeLimit };
}

function planCompression(options: CompressionOptions): Required<CompressionOptions> {
  const compression = {
    level: options.level ?? 6,
    minLength: options.minLength ?? Size.kibibytes(1),
    types: options.types ?? DEFAULT_COMPRESSED_TYPES,
  };
  assertIntegerInRange('compression.level', compression.level, 1, 9);
  assertSize('compression.minLength', compression.minLength, 0, GIB);
  if (compression.types.length === 0) {
    throw new Error('\'compression.types\' must hold at least one MIME type, got []');
  }
  for (const type of compression.types) {
    if (type.length > 100 || !/^[a-z0-9][a-z0-9!#&^_.+-]*\/[a-z0-9][a-z0-9!#&^_.+-]*$/.test(type)) {
      throw new Error(
        `'compression.types' must hold MIME types such as text/css, got ${JSON.stringify(type)}`,
      );
    }
  }
  return compression;
}

function checkPaths(
  routes: Route[],
  overrides: StaticFile[],
  healthPath: string,
  compression: Required<CompressionOptions>,
): void {
  assertUnique('routes', routes.map((r) => `${r.exact ? '= ' : ''}${r.path}`));
  assertUnique('overrides', overrides.map((o) => o.urlPath));

  // every file the overrides volume holds, .gz copies included, must fit one directory tree
  const files = overrides.flatMap((o) => (shouldPrecompress(o, compression)
    ? [o.urlPath, `${o.urlPath}.gz`]
    : [o.urlPath]));
  for (const file of files) {
    const inside = files.find((other) => other.startsWith(`${file}/`));
    if (inside) {
      throw new Error(`'overrides' cannot hold both ${JSON.stringify(file)} and `
        + `${JSON.stringify(inside)}: a file cannot be a directory`);
    }
  }
  if (new Set(files).size !== files.length) {
    throw new Error(
      '\'overrides\' mount two files at one path, a precompressed .gz copy over another file: '
      + JSON.stringify(files),
    );
  }

  if (overrides.some((o) => o.urlPath === healthPath)) {
    throw new Error(`'overrides' path ${JSON.stringify(healthPath)} clashes with 'healthPath'`);
  }
  const servedByNginx = new Set([healthPath, ...overrides.map((o) => o.urlPath)]);
  for (const route of routes.filter((r) => r.exact && servedByNginx.has(r.path))) {
    throw new Error(
      `'routes' exact path ${JSON.stringify(route.path)} clashes with 'healthPath' or an override, `
      + 'which nginx serves itself',
    );
  }
}

function checkHeader(header: ResponseHeader): void {
  if (header.name.length > 256 || !/^[A-Za-z0-9!#%&'*+.^_`|~-]+$/.test(header.name)) {
    throw new Error(
      `'responseHeaders' name must be an HTTP header name, got ${JSON.stringify(header.name)}`,
    );
  }
  // `$` would expand nginx variables and nginx has no escape for it; control characters
  // would split the header
  if (!/^[\x20-\x7e]*$/.test(header.value) || header.value.includes('$')) {
    throw new Error(
      `'responseHeaders' value of ${header.name} must be printable ASCII without '$', `
      + `got ${JSON.stringify(header.value)}`,
    );
  }
  if (header.value.length > MAX_VALUE_LENGTH) {
    throw new Error(`'responseHeaders' value of ${header.name} must be at most `
      + `${MAX_VALUE_LENGTH} characters, got ${header.value.length}`);
  }
}

function planImage(image: string | undefined): string {
  return checkImage('image', image ?? 'docker.io/library/nginx:1.28.0');
}

/** Refuses what no container runtime can pull: empty names, whitespace, control characters. */
export function checkImage(prop: string, image: string): string {
  if (image.length === 0 || image.length > 512 || !/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(image)) {
    throw new Error(
      `'${prop}' must be an image reference such as registry.example.com/app:1.0.0, `
      + `got ${JSON.stringify(image)}`,
    );
  }
  return image;
}

export function shouldPrecompress(
  file: StaticFile, compression: Required<CompressionOptions>,
): boolean {
  const type = file.contentType.split(';')[0].trim();
  const compressible = type === 'text/html' || compression.types.includes(type);
  return compressible && file.sizeBytes >= compression.minLength.toKibibytes() * 1024;
}

/**
 * The container's resources as manifest JSON. Defaults are measured in docs/benchmarks.md.
 */
function resourcesManifest(resources: kplus.ContainerResources | undefined): any {
  if (!resources) {
    return { limits: { memory: '128Mi' }, requests: { cpu: '50m', memory: '32Mi' } };
  }
  return checkResources('resources', resources);
}

/**
 * Refuses amounts Kubernetes cannot take (a request above its limit, sizes that are not whole
 * MiB) and returns the resources as manifest JSON.
 */
export function checkResources(prop: string, resources: kplus.ContainerResources): any {
  const limits: any = {};
  const requests: any = {};
  const cpu = resources.cpu;
  const cpuRequest = cpu?.request && millicores(`${prop}.cpu.request`, cpu.request);
  const cpuLimit = cpu?.limit && millicores(`${prop}.cpu.limit`, cpu.limit);
  if (cpuRequest !== undefined && cpuLimit !== undefined && cpuRequest > cpuLimit) {
    throw new Error(
      `'${prop}.cpu.request' ${cpuRequest}m must not exceed '${prop}.cpu.limit' ${cpuLimit}m`,
    );
  }
  if (cpuLimit !== undefined) limits.cpu = `${cpuLimit}m`;
  if (cpuRequest !== undefined) requests.cpu = `${cpuRequest}m`;
  const sizes = [['memory', 'memory'], ['ephemeralStorage', 'ephemeral-storage']] as const;
  for (const [name, key] of sizes) {
    const amounts = resources[name];
    const request = amounts?.request && mebibytes(`${prop}.${name}.request`, amounts.request);
    const limit = amounts?.limit && mebibytes(`${prop}.${name}.limit`, amounts.limit);
    if (request !== undefined && limit !== undefined && request > limit) {
      throw new Error(
        `'${prop}.${name}.request' ${request}Mi must not exceed '${prop}.${name}.limit' ${limit}Mi`,
      );
    }
    if (limit !== undefined) limits[key] = `${limit}Mi`;
    if (request !== undefined) requests[key] = `${request}Mi`;
  }
  return { limits, requests };
}

function millicores(prop: string, cpu: kplus.Cpu): number {
  const amount = cpu.amount;
  const value = amount.endsWith('m') ? Number(amount.slice(0, -1)) : Number(amount) * 1000;
  if (!Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw new Error(`'${prop}' must be a whole number of millicores from 1 to 1000000, `
      + `got ${JSON.stringify(amount)}`);
  }
  return value;
}

function mebibytes(prop: string, size: Size): number {
  return assertSize(prop, size, MIB, TIB, MIB) / MIB;
}

function assertUnique(prop: string, values: string[]): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) {
      throw new Error(`'${prop}' must not repeat a path, got ${JSON.stringify(value)} twice`);
    }
    seen.add(value);
  }
}
