import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ApiObject, Chart, Cron, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  DurationSpec, HeaderSpec, OverrideSpec, ResourcesSpec, RouteSpec, SidecarCase, SizeSpec,
  TargetSpec,
} from './arbitraries';
import { NginxSidecar, ResponseHeader, Route, SecurityHeaders, SidecarTarget, StaticFile } from '../../../src';

export function toDuration(spec: DurationSpec): Duration {
  return Duration[spec.unit](spec.amount);
}

export function toSize(spec: SizeSpec): Size {
  return Size[spec.unit](spec.amount);
}

/** Milliseconds of a duration spec, fractions kept. */
export function millisOf(spec: DurationSpec): number {
  const factor = { millis: 1, seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 }[spec.unit];
  return spec.amount * factor;
}

/** KiB of a size spec, fractions kept. */
export function kibibytesOf(spec: SizeSpec): number {
  const factor = { kibibytes: 1, mebibytes: 1024, gibibytes: 1024 ** 2, tebibytes: 1024 ** 3 }[spec.unit];
  return spec.amount * factor;
}

export function buildRoute(spec: RouteSpec): Route {
  const options = {
    exact: spec.exact,
    browserCacheFor: spec.browserCacheFor && toDuration(spec.browserCacheFor),
  };
  const validFor = spec.validFor && toDuration(spec.validFor);
  switch (spec.kind) {
    case 'cached':
      return Route.cached(spec.path, { ...options, validFor });
    case 'microCached':
      return Route.microCached(spec.path, { ...options, validFor, serveStaleOnError: spec.serveStaleOnError });
    case 'uncached':
      return Route.uncached(spec.path, options);
    case 'followingAppHeaders':
      return Route.followingAppHeaders(spec.path, options);
    case 'webSocket':
      return Route.webSocket(spec.path, { exact: spec.exact, idleTimeout: spec.idleTimeout && toDuration(spec.idleTimeout) });
  }
}

/** A folder for files that `StaticFile.fromFile` reads; one per test file is enough. */
let fileDir: string | undefined;

/** The local path a file override of this spec reads from. */
export function localPathOf(spec: OverrideSpec, index: number): string {
  fileDir = fileDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-overrides-'));
  return path.join(fileDir, spec.via === 'missing-file' ? `missing-${index}` : `file-${index}`);
}

export function buildOverride(spec: OverrideSpec, index: number): StaticFile {
  const options = {
    contentType: spec.contentType,
    browserCacheFor: spec.browserCacheFor && toDuration(spec.browserCacheFor),
  };
  switch (spec.via) {
    case 'string':
      return StaticFile.fromString(spec.urlPath, spec.content, options);
    case 'base64':
      return StaticFile.fromBase64(spec.urlPath, spec.content, options);
    case 'file': {
      const local = localPathOf(spec, index);
      fs.writeFileSync(local, spec.content);
      return StaticFile.fromFile(spec.urlPath, local, options);
    }
    case 'missing-file': {
      const local = localPathOf(spec, index);
      fs.rmSync(local, { force: true });
      return StaticFile.fromFile(spec.urlPath, local, options);
    }
  }
}

export function buildHeaders(spec: HeaderSpec[] | 'recommended'): ResponseHeader[] {
  return spec === 'recommended' ? SecurityHeaders.recommended() : spec;
}

export function buildResources(spec: ResourcesSpec): kplus.ContainerResources {
  return {
    cpu: spec.cpuMillis !== undefined ? { request: kplus.Cpu.millis(spec.cpuMillis) } : undefined,
    memory: spec.memoryRequest || spec.memoryLimit ? {
      request: spec.memoryRequest && toSize(spec.memoryRequest),
      limit: spec.memoryLimit && toSize(spec.memoryLimit),
    } : undefined,
  };
}

/** The user's workload, its Service and Ingress, as a chart holds them before the sidecar. */
export interface BuiltTarget {
  readonly chart: Chart;
  readonly target: SidecarTarget;
  /** Kinds whose pods must meet restricted as a whole, sidecar included. */
  readonly restrictedOnItsOwn: boolean;
  /** Attaches the Service (and Ingress) the spec asks for; call after the sidecar exists. */
  expose(sidecar: NginxSidecar): void;
}

const APP_LABELS = { app: 'fuzz-app' };

export function buildTarget(spec: TargetSpec): BuiltTarget {
  const chart = Testing.chart();
  const container = { image: 'registry.example.com/app:1', portNumber: spec.appPort, name: 'app' };
  let workload: kplus.AbstractPod | undefined;
  let raw: ApiObject | undefined;
  switch (spec.kind) {
    case 'Deployment':
    case 'HardenedDeployment':
      workload = new kplus.Deployment(chart, 'app', { containers: [container] });
      break;
    case 'StatefulSet':
      workload = new kplus.StatefulSet(chart, 'app', { containers: [container] });
      break;
    case 'DaemonSet':
      workload = new kplus.DaemonSet(chart, 'app', { containers: [container] });
      break;
    case 'Job':
      workload = new kplus.Job(chart, 'app', { containers: [container] });
      break;
    case 'CronJob':
      workload = new kplus.CronJob(chart, 'app', { containers: [container], schedule: Cron.daily() });
      break;
    case 'Pod':
      workload = new kplus.Pod(chart, 'app', { containers: [container] });
      break;
    case 'RawRestricted':
      raw = rawDeployment(chart, spec.appPort, false);
      break;
    case 'RawLoose':
      raw = rawDeployment(chart, spec.appPort, true);
      break;
  }
  if (spec.kind === 'HardenedDeployment') {
    // what a careful user adds: cdk8s-plus-27 has no field for seccomp or for dropping ALL
    // (and JSON patches on its objects apply before conversion, so the manifest is edited)
    editPodSpec(ApiObject.of(workload!), (pod) => {
      pod.securityContext = { ...pod.securityContext, seccompProfile: { type: 'RuntimeDefault' } };
      pod.containers[0].securityContext = { ...pod.containers[0].securityContext, capabilities: { drop: ['ALL'] } };
    });
  }
  const target = workload ? SidecarTarget.fromWorkload(workload) : SidecarTarget.fromApiObject(raw!);
  return {
    chart,
    target,
    restrictedOnItsOwn: spec.kind === 'HardenedDeployment' || spec.kind === 'RawRestricted',
    expose: (sidecar) => {
      if (spec.expose === 'none') {
        return;
      }
      if (raw) {
        const service = new ApiObject(chart, 'svc', {
          apiVersion: 'v1',
          kind: 'Service',
          spec: { selector: APP_LABELS, ports: [{ name: 'http', port: 80, targetPort: spec.appPort }] },
        });
        sidecar.exposeVia(service);
        return;
      }
      if (!(workload instanceof kplus.Deployment) && !(workload instanceof kplus.StatefulSet)) {
        return;
      }
      const service = new kplus.Service(chart, 'svc', {
        selector: workload,
        ports: [{ name: 'http', port: 80, targetPort: spec.appPort }],
      });
      const ingresses = [];
      if (spec.expose === 'service+ingress') {
        ingresses.push(new kplus.Ingress(chart, 'ingress', {
          defaultBackend: kplus.IngressBackend.fromService(service, { port: 80 }),
        }));
      }
      sidecar.exposeVia(service, { ingresses });
    },
  };
}

function editPodSpec(object: ApiObject, edit: (pod: any) => void): void {
  const toJson = object.toJson.bind(object);
  object.toJson = () => {
    const manifest = toJson();
    edit(manifest.spec.template.spec);
    return manifest;
  };
}

function rawDeployment(chart: Chart, appPort: number, loose: boolean): ApiObject {
  const appContainer: any = {
    name: 'app',
    image: 'registry.example.com/app:1',
    ports: [{ containerPort: appPort, name: 'app-http' }],
    securityContext: loose
      ? { privileged: true, runAsUser: 0, capabilities: { add: ['SYS_ADMIN', 'NET_ADMIN'] } }
      : {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        runAsUser: 1000,
      },
    volumeMounts: loose ? [{ name: 'host-logs', mountPath: '/var/log/host' }] : [],
  };
  const podSpec: any = {
    containers: [appContainer],
    securityContext: loose
      ? { runAsNonRoot: false, runAsUser: 0, seccompProfile: { type: 'Unconfined' } }
      : { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  };
  if (loose) {
    podSpec.hostNetwork = true;
    podSpec.hostPID = true;
    podSpec.volumes = [{ name: 'host-logs', hostPath: { path: '/var/log', type: 'Directory' } }];
  }
  return new ApiObject(chart, 'app', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    spec: {
      selector: { matchLabels: APP_LABELS },
      template: { metadata: { labels: APP_LABELS }, spec: podSpec },
    },
  });
}

/** Everything a built case holds, for the checks. */
export interface BuiltSidecar {
  readonly built: BuiltTarget;
  readonly sidecar: NginxSidecar;
  /** The chart synthesized before the sidecar was attached. */
  readonly before: any[];
}

/**
 * Builds the case through the public API only: the target, then the routes and overrides with
 * their factories, then the sidecar, then the Service. Throws whatever the library throws.
 */
export function buildSidecarCase(c: SidecarCase): BuiltSidecar {
  const built = buildTarget(c.target);
  const before = Testing.synth(built.chart);
  const sidecar = new NginxSidecar(built.chart, 'proxy', {
    target: built.target,
    upstreamPort: c.upstreamPort === 'app' ? c.target.appPort : c.upstreamPort,
    listenPort: c.listenPort,
    compressorPort: c.compressorPort,
    routes: c.routes?.map(buildRoute),
    overrides: c.overrides?.map(buildOverride),
    healthPath: c.healthPath,
    timeouts: c.timeouts && {
      connect: c.timeouts.connect && toDuration(c.timeouts.connect),
      read: c.timeouts.read && toDuration(c.timeouts.read),
      send: c.timeouts.send && toDuration(c.timeouts.send),
    },
    cache: c.cache && {
      maxSize: c.cache.maxSize && toSize(c.cache.maxSize),
      inactive: c.cache.inactive && toDuration(c.cache.inactive),
    },
    compression: c.compression && {
      level: c.compression.level,
      minLength: c.compression.minLength && toSize(c.compression.minLength),
      types: c.compression.types,
    },
    clientMaxBodySize: c.clientMaxBodySize && toSize(c.clientMaxBodySize),
    workerProcesses: c.workerProcesses,
    workerConnections: c.workerConnections,
    listenOnIpv6: c.listenOnIpv6,
    responseHeaders: c.responseHeaders && buildHeaders(c.responseHeaders),
    image: c.image,
    containerName: c.containerName,
    resources: c.resources && buildResources(c.resources),
  });
  built.expose(sidecar);
  return { built, sidecar, before };
}
