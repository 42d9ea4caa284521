import * as crypto from 'crypto';
import { ApiObject, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { AlertmanagerConfig } from './alertmanager-config';
import { AlertmanagerStorage } from './alertmanager-storage';
import {
  assertDuration, assertIntegerInRange, assertUrlPath, ONE_DAY_MS, ONE_YEAR_MS,
} from '../nginx/_validate';
import { Route } from '../nginx/route';
import { StaticFile } from '../nginx/static-file';
import { editManifest, sortKeys, sortOwnKeys } from '../sidecar/_manifest';
import { checkImage, checkResources } from '../sidecar/_plan';
import { NginxSidecar, NginxSidecarOptions } from '../sidecar/nginx-sidecar';
import { SidecarTarget } from '../sidecar/sidecar-target';

/**
 * An Ingress in front of the public Service.
 */
export interface AlertmanagerIngressOptions {
  /**
   * Host name the Ingress answers for.
   *
   * @default - every host
   */
  readonly host?: string;

  /**
   * IngressClass that serves the Ingress.
   *
   * @default - the cluster's default IngressClass
   */
  readonly ingressClassName?: string;

  /**
   * Secret holding the TLS certificate for `host`.
   *
   * @default - no TLS
   */
  readonly tlsSecretName?: string;
}

/**
 * Properties of an Alertmanager behind an nginx sidecar.
 */
export interface AlertmanagerWithProxyProps {
  /**
   * Number of replicas. More than one forms a cluster over port 9094 (TCP and UDP) and adds a
   * PodDisruptionBudget that keeps all but one running.
   *
   * @default 1
   */
  readonly replicas?: number;

  /**
   * Alertmanager's version, which decides the UI's paths: up to 0.31 the UI is `/script.js`
   * and `/lib/`, from 0.32 hashed files under `/assets/`.
   *
   * @default '0.28.1'
   */
  readonly version?: string;

  /**
   * Alertmanager image.
   *
   * @default - quay.io/prometheus/alertmanager at `version`
   */
  readonly image?: string;

  /**
   * alertmanager.yml. It is stored in a Secret, never in a ConfigMap or annotation.
   *
   * @default AlertmanagerConfig.discardAll()
   */
  readonly config?: AlertmanagerConfig;

  /**
   * Where silences and notification state live.
   *
   * @default AlertmanagerStorage.persistent()
   */
  readonly storage?: AlertmanagerStorage;

  /**
   * How long notification state and expired silences are kept.
   *
   * @default Duration.hours(120)
   */
  readonly retention?: Duration;

  /**
   * URL under which users reach Alertmanager (`--web.external-url`), used in links it sends.
   *
   * @default - Alertmanager derives it from the pod's host name
   */
  readonly externalUrl?: string;

  /**
   * Path prefix of every Alertmanager handler (`--web.route-prefix`), probes and UI included.
   * The proxy's routes and overrides move under it.
   *
   * @default - the path of `externalUrl`, or `/`
   */
  readonly routePrefix?: string;

  /**
   * Most GET requests Alertmanager serves at once (`--web.get-concurrency`); it answers 503
   * beyond. The first knob to turn when the UI gets 503 under load.
   *
   * @default - Alertmanager's own: the larger of GOMAXPROCS and 8
   */
  readonly maxConcurrentGets?: number;

  /**
   * Time after which Alertmanager abandons a request (`--web.timeout`).
   *
   * @default - Alertmanager's own: no timeout
   */
  readonly webTimeout?: Duration;

  /**
   * Reuse GET answers of `/api/v2/` for this long (whole seconds, 1 to 60), so bursts of UI
   * polling reach Alertmanager once. nginx counts validity in whole seconds, so an answer is
   * then at most this plus one second plus one round trip old: a new alert or silence may be
   * missing from lists for that long.
   *
   * @default - API answers are never cached
   */
  readonly apiMicroCache?: Duration;

  /**
   * Files nginx serves instead of Alertmanager, at paths relative to the route prefix (for
   * example a patched `/script.js`).
   *
   * @default - none
   */
  readonly overrides?: StaticFile[];

  /**
   * CPU and memory of the Alertmanager container.
   *
   * @default - requests 50m CPU and 64Mi memory; limit 256Mi memory
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * Tuning of the nginx sidecar.
   *
   * @default - the sidecar's defaults
   */
  readonly proxy?: NginxSidecarOptions;

  /**
   * An Ingress in front of the public Service.
   *
   * @default - no Ingress
   */
  readonly ingress?: AlertmanagerIngressOptions;
}

const WEB_PORT = 9093;
const CLUSTER_PORT = 9094;
const CONFIG_DIR = '/etc/alertmanager';
const DATA_DIR = '/alertmanager';
const STORAGE_VOLUME = 'storage';
const CONFIG_CHECKSUM_ANNOTATION = 'alertmanager/config-checksum';
/** The Alertmanager image runs as nobody. */
const ALERTMANAGER_USER = 65534;

/**
 * A complete Alertmanager: a StatefulSet with the nginx sidecar in each pod, its configuration
 * in a Secret, a public Service through nginx and a headless Service that keeps 9093 for
 * Prometheus and 9094 for the cluster peers.
 */
export class AlertmanagerWithProxy extends Construct {
  /** The StatefulSet running Alertmanager and nginx. */
  public readonly statefulSet: kplus.StatefulSet;

  /** The Service clients use; it reaches nginx. */
  public readonly service: kplus.Service;

  /**
   * The headless Service that governs the StatefulSet. It reaches Alertmanager directly, as
   * Prometheus must talk to every replica, and carries the cluster port.
   */
  public readonly headlessService: kplus.Service;

  /** The Secret holding alertmanager.yml. */
  public readonly configSecret: kplus.Secret;

  /** The nginx sidecar. */
  public readonly proxy: NginxSidecar;

  /** The Ingress, when one was asked for. */
  public readonly ingress?: kplus.Ingress;

  /** The route prefix every handler lives under, `/` when none. */
  public readonly routePrefix: string;

  public constructor(scope: Construct, id: string, props: AlertmanagerWithProxyProps = {}) {
    super(scope, id);

    const replicas = props.replicas ?? 1;
    assertIntegerInRange('replicas', replicas, 1, 100);
    const version = parseVersion(props.version ?? '0.28.1');
    const defaultImage = `quay.io/prometheus/alertmanager:v${version.text}`;
    const image = checkImage('image', props.image ?? defaultImage);
    this.routePrefix = routePrefixOf(props);
    const retention = props.retention ?? Duration.hours(120);
    assertDuration('retention', retention, {
      minMillis: 60_000, maxMillis: 10 * ONE_YEAR_MS, wholeSeconds: true,
    });
    if (props.maxConcurrentGets !== undefined) {
      assertIntegerInRange('maxConcurrentGets', props.maxConcurrentGets, 1, 100_000);
    }
    if (props.webTimeout !== undefined) {
      assertDuration('webTimeout', props.webTimeout, { minMillis: 1000, maxMillis: ONE_DAY_MS });
    }
    if (props.apiMicroCache !== undefined) {
      assertDuration('apiMicroCache', props.apiMicroCache, {
        minMillis: 1000, maxMillis: 60_000, wholeSeconds: true,
      });
    }
    if (props.ingress) {
      checkIngressOptions(props.ingress);
    }
    if (props.resources) {
      checkResources('resources', props.resources);
    }
    const overrides = (props.overrides ?? []).map((file) => file.withPrefix(this.routePrefix));
    if (version.minor >= 32) {
      for (const file of props.overrides ?? []) {
        if (file.urlPath === '/script.js') {
          throw new Error(
            `'overrides' has /script.js, which Alertmanager ${version.text} does not `
            + 'serve: from 0.32 its UI is hashed files under /assets/. Override the asset '
            + 'path the new UI loads, or set \'version\' to the 0.31 or older release you run',
          );
        }
      }
    }
    const config = props.config ?? AlertmanagerConfig.discardAll();
    const storage = props.storage ?? AlertmanagerStorage.persistent();

    this.configSecret = new kplus.Secret(this, 'config', {
      stringData: { 'alertmanager.yml': config.yaml },
    });

    this.headlessService = new kplus.Service(this, 'peers', {
      clusterIP: 'None',
      ports: [
        { port: WEB_PORT, targetPort: WEB_PORT, name: 'http' },
        { port: CLUSTER_PORT, targetPort: CLUSTER_PORT, name: 'cluster-tcp' },
        {
          port: CLUSTER_PORT,
          targetPort: CLUSTER_PORT,
          name: 'cluster-udp',
          protocol: kplus.Protocol.UDP,
        },
      ],
    });

    this.statefulSet = new kplus.StatefulSet(this, 'statefulset', {
      replicas,
      service: this.headlessService,
      // peers must find each other before any of them is ready
      podManagementPolicy: kplus.PodManagementPolicy.PARALLEL,
      securityContext: {
        ensureNonRoot: true,
        user: ALERTMANAGER_USER,
        group: ALERTMANAGER_USER,
        fsGroup: ALERTMANAGER_USER,
      },
    });
    this.headlessService.select(this.statefulSet);

    const args = [
      `--config.file=${CONFIG_DIR}/alertmanager.yml`,
      `--storage.path=${DATA_DIR}`,
      `--data.retention=${goDuration(retention)}`,
      `--web.listen-address=:${WEB_PORT}`,
      ...(props.externalUrl ? [`--web.external-url=${props.externalUrl}`] : []),
      `--web.route-prefix=${this.routePrefix}`,
      ...(props.maxConcurrentGets !== undefined
        ? [`--web.get-concurrency=${props.maxConcurrentGets}`]
        : []),
      ...(props.webTimeout ? [`--web.timeout=${goDuration(props.webTimeout)}`] : []),
      ...this.clusterArgs(replicas),
    ];
    const prefixed = (path: string) => `${this.routePrefix.replace(/\/$/, '')}${path}`;
    const container = this.statefulSet.addContainer({
      name: 'alertmanager',
      image,
      args,
      envVariables: { POD_IP: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_IP) },
      ports: [
        { number: WEB_PORT, name: 'http' },
        { number: CLUSTER_PORT, name: 'cluster-tcp' },
        { number: CLUSTER_PORT, name: 'cluster-udp', protocol: kplus.Protocol.UDP },
      ],
      securityContext: {
        ensureNonRoot: true,
        user: ALERTMANAGER_USER,
        group: ALERTMANAGER_USER,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
      },
      readiness: kplus.Probe.fromHttpGet(prefixed('/-/ready'), { port: WEB_PORT }),
      liveness: kplus.Probe.fromHttpGet(prefixed('/-/healthy'), {
        port: WEB_PORT,
        failureThreshold: 6,
      }),
      startup: kplus.Probe.fromHttpGet(prefixed('/-/ready'), {
        port: WEB_PORT,
        failureThreshold: 30,
        periodSeconds: Duration.seconds(2),
      }),
      resources: props.resources ?? {
        cpu: { request: kplus.Cpu.millis(50) },
        memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
      },
    });
    container.mount(CONFIG_DIR, kplus.Volume.fromSecret(this, 'config-volume', this.configSecret), {
      readOnly: true,
    });
    if (!storage.isPersistent) {
      container.mount(DATA_DIR, kplus.Volume.fromEmptyDir(this, 'storage-volume', STORAGE_VOLUME, {
        sizeLimit: storage.size,
      }));
    }

    const configChecksum = crypto.createHash('sha256').update(config.yaml).digest('hex');
    this.statefulSet.podMetadata.addAnnotation(CONFIG_CHECKSUM_ANNOTATION, configChecksum);
    editManifest(ApiObject.of(this.statefulSet), (manifest) => {
      const podSpec = manifest.spec.template.spec;
      // restricted Pod Security wants seccomp and no capabilities; cdk8s-plus-27 has no field
      // for the first and no ALL for the second
      podSpec.securityContext = sortOwnKeys({
        ...podSpec.securityContext,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      const alertmanager = podSpec.containers.find((c: any) => c.name === 'alertmanager');
      alertmanager.securityContext = sortOwnKeys({
        ...alertmanager.securityContext,
        capabilities: { drop: ['ALL'] },
      });
      if (storage.isPersistent) {
        addVolumeClaimTemplate(manifest, storage);
      }
    });
    editManifest(ApiObject.of(this.headlessService), (manifest) => {
      manifest.spec = sortOwnKeys({ ...manifest.spec, publishNotReadyAddresses: true });
    });

    this.service = new kplus.Service(this, 'service', {
      selector: this.statefulSet,
      ports: [{ port: WEB_PORT, targetPort: WEB_PORT, name: 'http' }],
    });

    this.proxy = withPropPrefix('proxy', props.proxy, () => new NginxSidecar(this, 'proxy', {
      ...props.proxy,
      target: SidecarTarget.fromWorkload(this.statefulSet),
      upstreamPort: WEB_PORT,
      routes: alertmanagerRoutes(version.minor, props.apiMicroCache)
        .map((route) => route.withPrefix(this.routePrefix))
        // an overridden file is served by nginx, so its cache route has nothing to do
        .filter((route) => !(route.exact && overrides.some((file) => file.urlPath === route.path))),
      overrides,
    }));

    if (props.ingress) {
      this.ingress = this.createIngress(props.ingress);
    }
    this.proxy.exposeVia(this.service, { ingresses: this.ingress ? [this.ingress] : [] });

    if (replicas > 1) {
      new kplus.k8s.KubePodDisruptionBudget(this, 'disruption-budget', {
        spec: {
          maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
          selector: { matchLabels: this.statefulSet.matchLabels },
        },
      });
    }
  }

  private clusterArgs(replicas: number): string[] {
    if (replicas === 1) {
      // an empty listen address turns clustering off
      return ['--cluster.listen-address='];
    }
    const peers = Array.from({ length: replicas }, (_, i) =>
      `--cluster.peer=${this.statefulSet.name}-${i}.${this.headlessService.name}:${CLUSTER_PORT}`);
    return [
      `--cluster.listen-address=0.0.0.0:${CLUSTER_PORT}`,
      `--cluster.advertise-address=$(POD_IP):${CLUSTER_PORT}`,
      ...peers,
    ];
  }

  private createIngress(options: AlertmanagerIngressOptions): kplus.Ingress {
    const ingress = new kplus.Ingress(this, 'ingress', {
      className: options.ingressClassName,
    });
    const backend = kplus.IngressBackend.fromService(this.service, { port: WEB_PORT });
    const path = this.routePrefix;
    if (options.host) {
      ingress.addHostRule(options.host, path, backend, kplus.HttpIngressPathType.PREFIX);
    } else {
      ingress.addRule(path, backend, kplus.HttpIngressPathType.PREFIX);
    }
    if (options.tlsSecretName) {
      if (!options.host) {
        throw new Error(
          `'ingress.tlsSecretName' ${JSON.stringify(options.tlsSecretName)} needs 'ingress.host'`,
        );
      }
      ingress.addTls([{
        hosts: [options.host],
        secret: kplus.Secret.fromSecretName(this, 'tls-secret', options.tlsSecretName),
      }]);
    }
    return ingress;
  }
}

/**
 * What nginx caches for Alertmanager: the UI shell and its static files, which change only
 * with the image (and a new image replaces the pod and its cache). The API is never cached
 * unless asked for, and then only briefly.
 */
function alertmanagerRoutes(minor: number, apiMicroCache: Duration | undefined): Route[] {
  const ui = Duration.days(1);
  const uiRoutes = minor >= 32
    ? [
      Route.cached('/', { exact: true, validFor: ui }),
      Route.cached('/favicon.ico', { exact: true, validFor: ui }),
      // hashed names: a new release means new URLs, so browsers may keep these
      Route.cached('/assets/', { validFor: ui, browserCacheFor: Duration.days(30) }),
    ]
    : [
      Route.cached('/', { exact: true, validFor: ui }),
      Route.cached('/script.js', { exact: true, validFor: ui }),
      Route.cached('/favicon.ico', { exact: true, validFor: ui }),
      Route.cached('/lib/', { validFor: ui }),
    ];
  const apiRoutes = apiMicroCache
    ? [Route.microCached('/api/v2/', { validFor: apiMicroCache }), Route.uncached('/api/')]
    : [Route.uncached('/api/')];
  return [...uiRoutes, ...apiRoutes, Route.uncached('/-/')];
}

function addVolumeClaimTemplate(manifest: any, storage: AlertmanagerStorage): void {
  const claim = {
    metadata: { name: STORAGE_VOLUME },
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: `${storage.size.toMebibytes()}Mi` } },
      ...(storage.storageClassName ? { storageClassName: storage.storageClassName } : {}),
    },
  };
  manifest.spec = sortOwnKeys({ ...manifest.spec, volumeClaimTemplates: [sortKeys(claim)] });
  const containers: any[] = manifest.spec.template.spec.containers;
  const container = containers.find((c) => c.name === 'alertmanager');
  container.volumeMounts = [
    ...(container.volumeMounts ?? []),
    { mountPath: DATA_DIR, name: STORAGE_VOLUME },
  ];
}

/**
 * Runs `build`, naming the props of `options` as `prefix.prop` in its errors: the user wrote
 * `proxy: { image }`, so a refusal of 'image' must say 'proxy.image'.
 */
function withPropPrefix<T>(prefix: string, options: object | undefined, build: () => T): T {
  try {
    return build();
  } catch (e) {
    const keys = Object.keys(options ?? {});
    if (e instanceof Error && keys.length > 0) {
      const named = new RegExp(`'(${keys.join('|')})(?=['.])`, 'g');
      e.message = e.message.replace(named, `'${prefix}.$1`);
    }
    throw e;
  }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkIngressOptions(options: AlertmanagerIngressOptions): void {
  const names: Array<[string, string | undefined, RegExp]> = [
    // an Ingress host may start with one wildcard label
    ['ingress.host', options.host?.replace(/^\*\./, ''), DNS_SUBDOMAIN],
    ['ingress.ingressClassName', options.ingressClassName, DNS_SUBDOMAIN],
    ['ingress.tlsSecretName', options.tlsSecretName, DNS_SUBDOMAIN],
  ];
  for (const [prop, value, pattern] of names) {
    if (value !== undefined && (value.length > 253 || !pattern.test(value))) {
      throw new Error(
        `'${prop}' must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.'), `
        + `got ${JSON.stringify(value)}`,
      );
    }
  }
}

function routePrefixOf(props: AlertmanagerWithProxyProps): string {
  let prefix = props.routePrefix;
  if (props.externalUrl !== undefined) {
    const invalid = new Error(
      `'externalUrl' must be an absolute http(s) URL, got ${JSON.stringify(props.externalUrl)}`,
    );
    let url: URL;
    try {
      url = new URL(props.externalUrl);
    } catch {
      throw invalid;
    }
    if (!['http:', 'https:'].includes(url.protocol) || /[\s'"`$\\]/.test(props.externalUrl)) {
      throw invalid;
    }
    prefix = prefix ?? url.pathname;
  }
  prefix = prefix ?? '/';
  assertUrlPath('routePrefix', prefix, { allowTrailingSlash: true });
  return prefix.length > 1 ? prefix.replace(/\/$/, '') : prefix;
}

/** Go's duration text in its largest whole unit: Go knows h, m, s and ms, but not days. */
function goDuration(duration: Duration): string {
  const ms = duration.toMilliseconds();
  for (const [suffix, factor] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % factor === 0) {
      return `${ms / factor}${suffix}`;
    }
  }
  return `${ms}ms`;
}

function parseVersion(text: string): { text: string; minor: number } {
  const match = /^v?0\.(\d+)\.(\d+)$/.exec(text);
  if (!match) {
    throw new Error(
      `'version' must be an Alertmanager release such as 0.28.1, got ${JSON.stringify(text)}`,
    );
  }
  return { text: text.replace(/^v/, ''), minor: Number(match[1]) };
}
