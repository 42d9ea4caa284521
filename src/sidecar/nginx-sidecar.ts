import * as crypto from 'crypto';
import * as zlib from 'zlib';
import { ApiObject, ApiObjectMetadata, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { editManifest, sortKeys, sortOwnKeys } from './_manifest';
import { planSidecar, SidecarPlan } from './_plan';
import { SidecarTarget } from './sidecar-target';
import { PlannedOverride, renderNginxConfig } from '../nginx/nginx-config';
import {
  CompressionOptions, ProxyCacheOptions, ProxyTimeouts, ResponseHeader, SidecarPaths,
} from '../nginx/options';
import { Route } from '../nginx/route';
import { StaticFile } from '../nginx/static-file';

/**
 * Tuning of an nginx sidecar: everything but what it attaches to and what it serves.
 */
export interface NginxSidecarOptions {
  /**
   * Port nginx listens on, named `nginx-http`.
   *
   * @default 8080
   */
  readonly listenPort?: number;

  /**
   * Also listen on IPv6 (`[::]`), beside IPv4. Turn it on in clusters whose pods have IPv6
   * addresses that Services and probes use (IPv6-only, or dual-stack with IPv6 first). nginx
   * fails to start where the pod has no IPv6 at all.
   *
   * @default false
   */
  readonly listenOnIpv6?: boolean;

  /**
   * Loopback port of nginx's internal compressor, which gzips answers once before they are
   * cached. It listens on 127.0.0.1 only, so it is not reachable from outside the pod.
   *
   * @default - listenPort + 1
   */
  readonly compressorPort?: number;

  /**
   * nginx image.
   *
   * @default 'docker.io/library/nginx:1.28.0'
   */
  readonly image?: string;

  /**
   * Name of the nginx container.
   *
   * @default 'nginx'
   */
  readonly containerName?: string;

  /**
   * CPU and memory of the nginx container. These replace cdk8s-plus's container defaults
   * (1000m CPU and 512Mi memory requested), which are far more than nginx needs.
   *
   * @default - requests 50m CPU and 32Mi memory; limits 128Mi memory and no CPU limit
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * URL path nginx answers itself with 200, used by the container's probes.
   *
   * @default '/nginx-health'
   */
  readonly healthPath?: string;

  /**
   * Timeouts towards the app.
   *
   * @default - connect 2s, read 60s, send 30s
   */
  readonly timeouts?: ProxyTimeouts;

  /**
   * The in-pod cache.
   *
   * @default - 256Mi at most, entries dropped after a day unread
   */
  readonly cache?: ProxyCacheOptions;

  /**
   * gzip compression of text answers.
   *
   * @default - level 6, answers of 1 KiB and more, text types only
   */
  readonly compression?: CompressionOptions;

  /**
   * Largest request body nginx accepts.
   *
   * @default Size.mebibytes(4)
   */
  readonly clientMaxBodySize?: Size;

  /**
   * Number of nginx worker processes. Set explicitly because `auto` counts the node's CPUs,
   * not the container's share.
   *
   * @default 1
   */
  readonly workerProcesses?: number;

  /**
   * Connections each worker handles at once, counting those to the app.
   *
   * @default 1024
   */
  readonly workerConnections?: number;

  /**
   * Headers added to every answer, errors included. `SecurityHeaders.recommended()` gives a
   * safe set.
   *
   * @default - none
   */
  readonly responseHeaders?: ResponseHeader[];
}

/**
 * Properties of an nginx sidecar.
 */
export interface NginxSidecarProps extends NginxSidecarOptions {
  /**
   * The workload whose pods receive the nginx container.
   */
  readonly target: SidecarTarget;

  /**
   * The app's port in the same pod. nginx reaches it on 127.0.0.1. A container of the pod must
   * declare it, or synthesis fails: an undeclared port is usually a typo.
   */
  readonly upstreamPort: number;

  /**
   * How each path of the app is cached. Paths no route matches follow the app's own caching
   * headers, so nothing the app marks uncacheable is cached unless a route says so.
   *
   * @default - no routes: everything follows the app's caching headers
   */
  readonly routes?: Route[];

  /**
   * Files nginx serves itself at exact paths instead of proxying them.
   *
   * @default - none
   */
  readonly overrides?: StaticFile[];
}

/**
 * Options for `NginxSidecar.exposeVia`.
 */
export interface ExposeViaOptions {
  /**
   * Ingresses whose backends pointed at the remapped Service port; they are pointed at
   * `nginx-http` instead.
   *
   * @default - none
   */
  readonly ingresses?: IConstruct[];

  /**
   * Keep the Service port's number, so clients keep their URLs; only its name and target port
   * change. Otherwise the port number becomes `listenPort`, as the hand-made setup does.
   *
   * @default false
   */
  readonly keepPortNumber?: boolean;
}

/**
 * A ready-made set of security headers.
 */
export class SecurityHeaders {
  /**
   * `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` and
   * `X-Frame-Options: SAMEORIGIN`.
   */
  public static recommended(): ResponseHeader[] {
    return [
      { name: 'X-Content-Type-Options', value: 'nosniff' },
      { name: 'Referrer-Policy', value: 'same-origin' },
      { name: 'X-Frame-Options', value: 'SAMEORIGIN' },
    ];
  }

  private constructor() {}
}

const PORT_NAME = 'nginx-http';
const CHECKSUM_ANNOTATION = 'nginx-sidecar/config-checksum';
const VOLUME_NAMES = { config: 'nginx-config', overrides: 'nginx-overrides', state: 'nginx-state' };
/** Kubernetes refuses a ConfigMap over 1 MiB; leave room for its metadata. */
const CONFIG_MAP_BUDGET_BYTES = 1024 * 1024 - 16 * 1024;
const attached = new WeakSet<ApiObject>();

/**
 * An nginx reverse proxy and web server in the same pod as an app.
 *
 * It adds an nginx container, its configuration and override files as ConfigMaps, and an
 * emptyDir for its cache to the target workload. `exposeVia` points a Service at nginx.
 */
export class NginxSidecar extends Construct {
  /** The port nginx listens on. */
  public readonly listenPort: number;

  /** The app's port that nginx proxies to. */
  public readonly upstreamPort: number;

  /** Name of the nginx container port, used by Services and probes. */
  public readonly portName: string = PORT_NAME;

  /** The rendered nginx.conf. */
  public readonly nginxConf: string;

  /** The ConfigMap holding nginx.conf. */
  public readonly configMap: kplus.ConfigMap;

  /** The ConfigMap holding the override files; there is none without overrides. */
  public readonly overridesConfigMap?: kplus.ConfigMap;

  private readonly target: SidecarTarget;
  private readonly containerName: string;

  public constructor(scope: Construct, id: string, props: NginxSidecarProps) {
    super(scope, id);

    const plan = planSidecar(props);
    const target = props.target;
    if (attached.has(target.apiObject)) {
      throw new Error(`'target' ${target.apiObject.node.path} already has an nginx sidecar`);
    }
    attached.add(target.apiObject);

    this.target = target;
    this.listenPort = plan.listenPort;
    this.upstreamPort = plan.upstreamPort;
    this.containerName = props.containerName ?? 'nginx';
    assertDnsLabel('containerName', this.containerName);
    this.nginxConf = renderNginxConfig(plan);

    const overrideFiles = overrideConfigMapData(plan.overrides);
    this.configMap = new kplus.ConfigMap(this, 'config', {
      metadata: this.sameNamespaceAsTarget(),
      data: { 'nginx.conf': this.nginxConf },
    });
    // a chart with a namespace of its own would override the target's absent one
    this.assertSameNamespace('the sidecar\'s ConfigMap', this.configMap);
    if (overrideFiles.items.length > 0) {
      this.overridesConfigMap = this.createOverridesConfigMap(overrideFiles);
    }

    const checksum = crypto.createHash('sha256')
      .update(this.nginxConf)
      .update(JSON.stringify(overrideFiles))
      .digest('hex');
    // built and sorted once; every synthesis appends the same objects
    const container = sortKeys(this.containerManifest(plan));
    const volumes = sortKeys(this.volumeManifests(plan, overrideFiles.items));
    editManifest(target.apiObject, (manifest) => {
      const template = target._podTemplateOf(manifest);
      this.checkPod(template.spec, plan);
      const annotations = { ...template.metadata.annotations, [CHECKSUM_ANNOTATION]: checksum };
      template.metadata = sortOwnKeys({
        ...template.metadata,
        annotations: sortOwnKeys(annotations),
      });
      template.spec = sortOwnKeys({
        ...template.spec,
        containers: [...(template.spec.containers ?? []), container],
        volumes: [...(template.spec.volumes ?? []), ...volumes],
      });
    });
  }

  /**
   * Points a Service at nginx: the port that reached the app's port, by number or by name, gets
   * the listen port (or keeps its number, with `keepPortNumber`), the name `nginx-http` and the
   * named target port. Other ports stay as they are.
   *
   * Pass only the Service clients use. A headless Service that governs a StatefulSet usually
   * must keep reaching the app directly.
   *
   * @param service a cdk8s-plus Service or a raw Service API object
   */
  public exposeVia(service: IConstruct, options: ExposeViaOptions = {}): void {
    const serviceObject = ApiObject.of(service);
    const servicePath = serviceObject.node.path;
    if (serviceObject.kind !== 'Service') {
      throw new Error(
        `'service' must be a Service, got kind ${JSON.stringify(serviceObject.kind)} `
        + `at ${servicePath}`,
      );
    }
    this.assertSameNamespace('\'service\'', service);
    const before = editManifest(serviceObject, (manifest) => {
      const ports: any[] = manifest.spec?.ports ?? [];
      const matches = this.appPortsOf(ports);
      if (matches.length === 0) {
        throw new Error(
          `Service ${servicePath} has no port that reaches 'upstreamPort' ${this.upstreamPort} `
          + `(its ports: ${JSON.stringify(ports)})`,
        );
      }
      // two ports renamed to nginx-http would make an invalid Service
      if (matches.length > 1) {
        throw new Error(
          `Service ${servicePath} has ${matches.length} ports that reach 'upstreamPort' `
          + `${this.upstreamPort} (${JSON.stringify(matches)}); `
          + 'keep one of them before \'exposeVia\'',
        );
      }
      manifest.spec.ports = ports.map((port) => (matches.includes(port)
        ? sortOwnKeys({
          ...port,
          port: options.keepPortNumber ? port.port : this.listenPort,
          name: PORT_NAME,
          targetPort: PORT_NAME,
        })
        : port));
    });
    for (const ingress of options.ingresses ?? []) {
      const originalPorts = () => this.appPortsOf(before().spec?.ports ?? []);
      this.retargetIngress(ingress, serviceObject.name, originalPorts);
    }
  }

  private createOverridesConfigMap(files: OverrideConfigMapData): kplus.ConfigMap {
    const configMap = new kplus.ConfigMap(this, 'overrides', {
      metadata: this.sameNamespaceAsTarget(),
      data: files.data,
      binaryData: files.binaryData,
    });
    // cdk8s drops empty strings from what it synthesizes; an empty file still needs its key
    const emptyFiles = Object.keys(files.data).filter((key) => files.data[key] === '');
    if (emptyFiles.length > 0) {
      editManifest(ApiObject.of(configMap), (manifest) => {
        const empty = Object.fromEntries(emptyFiles.map((key) => [key, '']));
        manifest.data = sortOwnKeys({ ...manifest.data, ...empty });
      });
    }
    return configMap;
  }

  /**
   * Metadata that puts a ConfigMap in the target's namespace: a pod mounts ConfigMaps of its own
   * namespace only, and an included or raw workload may name one its chart does not.
   */
  private sameNamespaceAsTarget(): ApiObjectMetadata | undefined {
    const namespace = this.target.apiObject.metadata.namespace;
    // an absent key, not `namespace: undefined`, so the chart's namespace still applies
    return namespace === undefined ? undefined : { namespace };
  }

  /** Refuses an object the target's pods cannot use or reach: one in another namespace. */
  private assertSameNamespace(what: string, construct: IConstruct): void {
    const apiObject = ApiObject.of(construct);
    const expected = this.target.apiObject.metadata.namespace;
    const actual = apiObject.metadata.namespace;
    if (actual !== expected) {
      const describe = (namespace?: string) => (namespace === undefined
        ? 'no namespace'
        : `namespace ${JSON.stringify(namespace)}`);
      throw new Error(
        `${what} ${apiObject.node.path} is in ${describe(actual)}, but 'target' `
        + `${this.target.apiObject.node.path} is in ${describe(expected)}; `
        + 'they must share one namespace',
      );
    }
  }

  private retargetIngress(
    ingress: IConstruct, serviceName: string, originalPorts: () => any[],
  ): void {
    const ingressObject = ApiObject.of(ingress);
    if (ingressObject.kind !== 'Ingress') {
      throw new Error('\'ingresses\' must hold Ingresses, '
        + `got kind ${JSON.stringify(ingressObject.kind)} at ${ingressObject.node.path}`);
    }
    this.assertSameNamespace('\'ingresses\' entry', ingress);
    editManifest(ingressObject, (manifest) => {
      const ports = originalPorts();
      const backends = [
        manifest.spec?.defaultBackend,
        ...(manifest.spec?.rules ?? [])
          .flatMap((rule: any) => (rule.http?.paths ?? []).map((p: any) => p.backend)),
      ].filter((b) => b?.service?.name === serviceName);
      const retargeted = backends.filter((backend) => {
        const port = backend.service.port ?? {};
        return ports.some((p) => (port.number !== undefined && port.number === p.port)
          || (port.name !== undefined && port.name === p.name));
      });
      if (retargeted.length === 0) {
        throw new Error(
          `Ingress ${ingressObject.node.path} has no backend on Service '${serviceName}' port `
          + `${JSON.stringify(ports.map((p) => p.name ?? p.port))}`,
        );
      }
      for (const backend of retargeted) {
        backend.service.port = { name: PORT_NAME };
      }
    });
  }

  /** Service ports that lead to the app: by target port number or name, or by port alone. */
  private appPortsOf(ports: any[]): any[] {
    const appPortNames = new Set(this.appPortNames());
    return ports.filter((p) => {
      const target = p.targetPort ?? p.port;
      const byName = typeof target === 'string' && appPortNames.has(target);
      return target === this.upstreamPort || byName;
    });
  }

  private appPortNames(): string[] {
    const manifest = this.target.apiObject.toJson();
    const containers: any[] = this.target._podTemplateOf(manifest).spec.containers ?? [];
    return containers
      .filter((c) => c.name !== this.containerName)
      .flatMap((c) => c.ports ?? [])
      .filter((p: any) => p.containerPort === this.upstreamPort && p.name)
      .map((p: any) => p.name);
  }

  private checkPod(spec: any, plan: SidecarPlan): void {
    const path = this.target.apiObject.node.path;
    const containers: any[] = spec.containers ?? [];
    if (containers.some((c) => c.name === this.containerName)) {
      throw new Error(
        `'containerName' ${JSON.stringify(this.containerName)} is already a container of ${path}`,
      );
    }
    const volumes: any[] = spec.volumes ?? [];
    for (const name of Object.values(VOLUME_NAMES)) {
      if (volumes.some((v) => v.name === name)) {
        throw new Error(`${path} already has a volume named ${JSON.stringify(name)}, `
          + 'which the nginx sidecar needs');
      }
    }
    const declared = containers.flatMap((c) => (c.ports ?? []).map((p: any) => p.containerPort));
    if (!declared.includes(plan.upstreamPort)) {
      throw new Error(
        `'upstreamPort' ${plan.upstreamPort} is not declared by any container of ${path} `
        + `(declared: ${JSON.stringify(declared)}); declare the app's port on its container`,
      );
    }
    const nginxPorts = [
      ['listenPort', plan.listenPort],
      ['compressorPort', plan.compressorPort],
    ] as const;
    for (const [prop, port] of nginxPorts) {
      if (declared.includes(port)) {
        throw new Error(`'${prop}' ${port} is already a container port of ${path}`);
      }
    }
  }

  private containerManifest(plan: SidecarPlan): any {
    const probe = (failureThreshold: number) => ({
      httpGet: { path: plan.healthPath, port: PORT_NAME },
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold,
    });
    // shortcoming: no preStop hook, so on termination nginx and the app get SIGTERM together
    // and requests still in flight through nginx can fail during a rolling update
    return {
      name: this.containerName,
      image: plan.image,
      imagePullPolicy: 'IfNotPresent',
      args: ['-g', 'daemon off;', '-c', SidecarPaths.CONFIG_FILE],
      ports: [{ containerPort: plan.listenPort, name: PORT_NAME, protocol: 'TCP' }],
      readinessProbe: probe(3),
      livenessProbe: probe(6),
      resources: plan.resources,
      securityContext: {
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        privileged: false,
        readOnlyRootFilesystem: true,
        runAsGroup: 101,
        runAsNonRoot: true,
        runAsUser: 101,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      volumeMounts: [
        { name: VOLUME_NAMES.config, mountPath: SidecarPaths.CONFIG_DIR, readOnly: true },
        ...(this.overridesConfigMap
          ? [{
            name: VOLUME_NAMES.overrides,
            mountPath: SidecarPaths.OVERRIDES_DIR,
            readOnly: true,
          }]
          : []),
        { name: VOLUME_NAMES.state, mountPath: SidecarPaths.STATE_DIR },
      ],
    };
  }

  private volumeManifests(plan: SidecarPlan, overrideItems: any[]): any[] {
    const sizeLimitMib = plan.stateVolumeSizeLimit.toMebibytes();
    return [
      {
        name: VOLUME_NAMES.config,
        configMap: {
          name: this.configMap.name,
          items: [{ key: 'nginx.conf', path: 'nginx.conf', mode: 0o444 }],
        },
      },
      ...(this.overridesConfigMap
        ? [{
          name: VOLUME_NAMES.overrides,
          configMap: {
            name: this.overridesConfigMap.name,
            defaultMode: 0o444,
            items: overrideItems,
          },
        }]
        : []),
      { name: VOLUME_NAMES.state, emptyDir: { sizeLimit: `${sizeLimitMib}Mi` } },
    ];
  }
}

interface OverrideConfigMapData {
  readonly data: { [key: string]: string };
  readonly binaryData: { [key: string]: string };
  readonly items: Array<{ key: string; path: string; mode: number }>;
}

/**
 * ConfigMap keys allow only `[-._a-zA-Z0-9]`, so each file gets a safe key and a volume item
 * that mounts it back at its URL path.
 */
function overrideConfigMapData(overrides: PlannedOverride[]): OverrideConfigMapData {
  const data: { [key: string]: string } = {};
  const binaryData: { [key: string]: string } = {};
  const items: Array<{ key: string; path: string; mode: number }> = [];
  let bytes = 0;
  overrides.forEach((override, index) => {
    const file = override.file;
    const key = `${index}-${file.urlPath.slice(1).replace(/[^-._a-zA-Z0-9]/g, '_')}`.slice(0, 240);
    const content = Buffer.from(file.contentBase64, 'base64');
    const text = content.toString('utf-8');
    if (Buffer.from(text, 'utf-8').equals(content) && !text.includes('\0')) {
      data[key] = text;
    } else {
      binaryData[key] = file.contentBase64;
    }
    bytes += key.length + file.contentBase64.length;
    items.push({ key, path: file.urlPath.slice(1), mode: 0o444 });
    if (override.precompressed) {
      const gzipped = zlib.gzipSync(content, { level: 9 }).toString('base64');
      binaryData[`${key}.gz`] = gzipped;
      bytes += key.length + gzipped.length;
      items.push({ key: `${key}.gz`, path: `${file.urlPath.slice(1)}.gz`, mode: 0o444 });
    }
  });
  if (bytes > CONFIG_MAP_BUDGET_BYTES) {
    throw new Error(
      `'overrides' need ${bytes} bytes in their ConfigMap, more than the `
      + `${CONFIG_MAP_BUDGET_BYTES} Kubernetes allows (1 MiB less room for metadata); `
      + 'serve large files from the app or an image',
    );
  }
  return { data, binaryData, items };
}

function assertDnsLabel(prop: string, value: string): void {
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value)) {
    throw new Error(`'${prop}' must be a DNS-1123 label (lower-case letters, digits, '-'), `
      + `got ${JSON.stringify(value)}`);
  }
}
