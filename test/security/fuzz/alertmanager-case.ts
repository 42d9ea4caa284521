import { Testing } from 'cdk8s';
import * as fc from 'fast-check';
import {
  DurationSpec, duration, headerSpecs, HeaderSpec, intAround, mostlyGood, nastyString, OverrideSpec,
  overrideSpec, port, resourcesSpec, ResourcesSpec, size, SizeSpec, urlPath,
} from './arbitraries';
import {
  buildHeaders, buildOverride, buildResources, localPathOf, toDuration,
  toSize,
} from './build';
import {
  addGiven, expectConfigMatchesModel, expectNginxAccepts, expectNodeProtected,
  expectNothingExposed, expectProperRefusal, expectValidManifests, FuzzTally, nginxAvailable,
  NginxSampler, recordPlans,
} from './checks';
import { KnownBug, KNOWN_SIDECAR_BUGS } from './known-bugs';
import { expectHeadersApplied } from './sidecar-case';
import { AlertmanagerConfig, AlertmanagerStorage, AlertmanagerWithProxy } from '../../../src';
import { assertRestricted } from '../../support/pod-security';

export interface AlertmanagerCase {
  readonly replicas?: number;
  readonly version?: string;
  readonly image?: string;
  /** A receiver password; `secret` is the part that must never leave the Secret. */
  readonly config: { form: 'object' | 'yaml'; secret: string; password: string; receiver: string };
  readonly storage?:
    | { kind: 'persistent'; size?: SizeSpec; storageClassName?: string }
    | { kind: 'ephemeral'; size?: SizeSpec };
  readonly retention?: DurationSpec;
  readonly externalUrl?: string;
  readonly routePrefix?: string;
  readonly maxConcurrentGets?: number;
  readonly webTimeout?: DurationSpec;
  readonly apiMicroCache?: DurationSpec;
  readonly overrides?: OverrideSpec[];
  readonly resources?: ResourcesSpec;
  readonly proxy?: {
    listenPort?: number;
    responseHeaders?: HeaderSpec[] | 'recommended';
    cache?: { maxSize?: SizeSpec; inactive?: DurationSpec };
    clientMaxBodySize?: SizeSpec;
    image?: string;
  };
  readonly ingress?: { host?: string; ingressClassName?: string; tlsSecretName?: string };
}

function opt<T>(arbitrary: fc.Arbitrary<T>, percent = 50): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: percent, arbitrary }, { weight: 100 - percent, arbitrary: fc.constant(undefined) });
}

const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: 16, maxLength: 16 });
const dnsName = fc.string({ unit: fc.constantFrom(...'abcz09-.'.split('')), minLength: 1, maxLength: 20 })
  .map((s) => `a${s}z`);

export const alertmanagerCase: fc.Arbitrary<AlertmanagerCase> = fc.record({
  replicas: opt(intAround(1, 100), 40),
  version: opt(mostlyGood(fc.constantFrom('0.25.0', '0.28.1', '0.31.1', '0.32.0', 'v0.27.0'), nastyString), 40),
  image: opt(mostlyGood(fc.constant('quay.io/prometheus/alertmanager:v0.28.1'), nastyString), 15),
  config: fc.record({
    form: fc.constantFrom<'object' | 'yaml'>('object', 'yaml'),
    secret: hex.map((h) => `s3cr3t-${h}`),
    // YAML and shell metacharacters around the secret part
    suffix: nastyString,
    receiver: mostlyGood(fc.constantFrom('team', 'on-call', 'null'), nastyString),
  }).map(({ form, secret, suffix, receiver }) => ({ form, secret, password: `${secret}${suffix}`, receiver })),
  storage: opt(fc.oneof(
    fc.record({
      kind: fc.constant<'persistent'>('persistent'),
      size: opt(size),
      storageClassName: opt(mostlyGood(dnsName, nastyString)),
    }),
    fc.record({ kind: fc.constant<'ephemeral'>('ephemeral'), size: opt(size) }),
  ), 50),
  retention: opt(duration, 30),
  externalUrl: opt(mostlyGood(
    fc.constantFrom('https://am.example.com/', 'https://example.com/alertmanager/',
      'http://am:9093/a/b', 'https://example.com'),
    nastyString), 30),
  routePrefix: opt(urlPath, 30),
  maxConcurrentGets: opt(intAround(1, 100_000), 20),
  webTimeout: opt(duration, 20),
  apiMicroCache: opt(mostlyGood(
    fc.integer({ min: 1, max: 60 }).map((amount) => ({ unit: 'seconds' as const, amount })), duration), 40),
  overrides: opt(fc.array(mostlyGood(
    fc.constantFrom<OverrideSpec>(
      { via: 'string', urlPath: '/script.js', content: 'console.log("patched");' },
      { via: 'string', urlPath: '/favicon.ico', content: 'icon' },
      { via: 'string', urlPath: '/assets/index.js', content: 'x' }),
    overrideSpec), { maxLength: 2 }), 40),
  resources: opt(resourcesSpec, 15),
  proxy: opt(fc.record({
    listenPort: opt(port, 30),
    responseHeaders: opt(headerSpecs, 50),
    cache: opt(fc.record({ maxSize: size, inactive: duration }, { requiredKeys: [] }), 30),
    clientMaxBodySize: opt(size, 20),
    image: opt(mostlyGood(fc.constant('nginx:1.28.0'), nastyString), 10),
  }), 50),
  ingress: opt(fc.record({
    host: opt(mostlyGood(fc.constantFrom('alerts.example.com', '*.example.com'), nastyString)),
    ingressClassName: opt(mostlyGood(fc.constant('nginx'), nastyString), 30),
    tlsSecretName: opt(mostlyGood(fc.constant('alerts-tls'), nastyString), 40),
  }), 40),
}, { requiredKeys: ['config'] });

export function configOf(c: AlertmanagerCase): AlertmanagerConfig {
  const object = {
    route: { receiver: c.config.receiver },
    receivers: [{
      name: c.config.receiver,
      webhook_configs: [{
        url: 'https://hooks.example.com/alerts',
        http_config: { basic_auth: { username: 'alertmanager', password: c.config.password } },
      }],
    }],
  };
  if (c.config.form === 'object') {
    return AlertmanagerConfig.fromObject(object);
  }
  // hand-written YAML, the password single-quoted as a person would
  return AlertmanagerConfig.fromYaml([
    'route:',
    `  receiver: ${JSON.stringify(c.config.receiver)}`,
    'receivers:',
    `  - name: ${JSON.stringify(c.config.receiver)}`,
    '    webhook_configs:',
    '      - url: https://hooks.example.com/alerts',
    '        http_config:',
    '          basic_auth:',
    '            username: alertmanager',
    `            password: '${c.config.password.replace(/'/g, "''")}'`,
    '',
  ].join('\n'));
}

export interface BuiltAlertmanager {
  readonly chart: ReturnType<typeof Testing.chart>;
  readonly am: AlertmanagerWithProxy;
  readonly config: AlertmanagerConfig;
}

export function buildAlertmanagerCase(c: AlertmanagerCase): BuiltAlertmanager {
  const chart = Testing.chart();
  const config = configOf(c);
  const storage = c.storage === undefined ? undefined
    : c.storage.kind === 'persistent'
      ? AlertmanagerStorage.persistent({
        size: c.storage.size && toSize(c.storage.size),
        storageClassName: c.storage.storageClassName,
      })
      : AlertmanagerStorage.ephemeral(c.storage.size && toSize(c.storage.size));
  const am = new AlertmanagerWithProxy(chart, 'alertmanager', {
    replicas: c.replicas,
    version: c.version,
    image: c.image,
    config,
    storage,
    retention: c.retention && toDuration(c.retention),
    externalUrl: c.externalUrl,
    routePrefix: c.routePrefix,
    maxConcurrentGets: c.maxConcurrentGets,
    webTimeout: c.webTimeout && toDuration(c.webTimeout),
    apiMicroCache: c.apiMicroCache && toDuration(c.apiMicroCache),
    overrides: c.overrides?.map(buildOverride),
    resources: c.resources && buildResources(c.resources),
    proxy: c.proxy && {
      listenPort: c.proxy.listenPort,
      responseHeaders: c.proxy.responseHeaders && buildHeaders(c.proxy.responseHeaders),
      cache: c.proxy.cache && {
        maxSize: c.proxy.cache.maxSize && toSize(c.proxy.cache.maxSize),
        inactive: c.proxy.cache.inactive && toDuration(c.proxy.cache.inactive),
      },
      clientMaxBodySize: c.proxy.clientMaxBodySize && toSize(c.proxy.clientMaxBodySize),
      image: c.proxy.image,
    },
    ingress: c.ingress,
  });
  return { chart, am, config };
}

export function givenAlertmanagerProps(c: AlertmanagerCase): Map<string, unknown[]> {
  const given = new Map<string, unknown[]>();
  addGiven(given, 'replicas', c.replicas);
  addGiven(given, 'version', c.version);
  addGiven(given, 'image', c.image);
  addGiven(given, 'config', [c.config.receiver, c.config.password]);
  addGiven(given, 'storage', c.storage);
  addGiven(given, 'size', c.storage?.size);
  addGiven(given, 'sizeLimit', c.storage?.size);
  addGiven(given, 'storageClassName', c.storage?.kind === 'persistent' ? c.storage.storageClassName : undefined);
  addGiven(given, 'retention', c.retention);
  addGiven(given, 'externalUrl', c.externalUrl);
  addGiven(given, 'routePrefix', c.routePrefix ?? (c.externalUrl ? safePathOf(c.externalUrl) : undefined));
  addGiven(given, 'maxConcurrentGets', c.maxConcurrentGets);
  addGiven(given, 'webTimeout', c.webTimeout);
  addGiven(given, 'apiMicroCache', c.apiMicroCache);
  addGiven(given, 'overrides', c.overrides);
  addGiven(given, 'urlPath', c.overrides?.map((o) => o.urlPath));
  addGiven(given, 'contentType', c.overrides?.map((o) => o.contentType));
  addGiven(given, 'browserCacheFor', c.overrides?.map((o) => o.browserCacheFor));
  addGiven(given, 'base64', c.overrides?.filter((o) => o.via === 'base64').map((o) => o.content));
  addGiven(given, 'localPath', c.overrides?.map((o, i) => (o.via.endsWith('file') ? localPathOf(o, i) : undefined)));
  addGiven(given, 'resources', c.resources);
  // the sidecar's own names stand for proxy.*, as the user wrote them there
  addGiven(given, 'proxy', c.proxy);
  const listenPort = c.proxy?.listenPort ?? 8080;
  addGiven(given, 'listenPort', listenPort);
  addGiven(given, 'compressorPort', listenPort + 1);
  addGiven(given, 'upstreamPort', 9093);
  addGiven(given, 'responseHeaders', c.proxy?.responseHeaders === 'recommended' ? undefined : c.proxy?.responseHeaders);
  addGiven(given, 'cache.maxSize', c.proxy?.cache?.maxSize);
  addGiven(given, 'cache.inactive', c.proxy?.cache?.inactive);
  addGiven(given, 'clientMaxBodySize', c.proxy?.clientMaxBodySize);
  addGiven(given, 'ingress', c.ingress);
  for (const key of ['host', 'ingressClassName', 'tlsSecretName'] as const) {
    addGiven(given, `ingress.${key}`, c.ingress?.[key]);
  }
  return given;
}

function safePathOf(url: string): string | undefined {
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

/** Known bugs of the sidecar, seen through the Alertmanager props, and the Alertmanager's own. */
export const KNOWN_ALERTMANAGER_BUGS: Array<{ test: string; matches: (c: AlertmanagerCase) => boolean }> = [
  ...KNOWN_SIDECAR_BUGS.map((bug: KnownBug) => ({
    test: bug.test,
    matches: (c: AlertmanagerCase) => bug.matches({
      target: { kind: 'StatefulSet', appPort: 9093, expose: 'none' },
      upstreamPort: 'app',
      listenPort: c.proxy?.listenPort,
      // overrides move under the route prefix
      overrides: c.overrides?.map((o) => ({
        ...o,
        urlPath: `${(c.routePrefix ?? '').replace(/\/$/, '')}${o.urlPath}`,
      })),
      responseHeaders: c.proxy?.responseHeaders,
      cache: c.proxy?.cache,
      clientMaxBodySize: c.proxy?.clientMaxBodySize,
      image: c.proxy?.image,
      resources: c.resources,
    }),
  })),
  // the Alertmanager's own: none open; each fixed one is pinned in regressions.test.ts
];

export interface AlertmanagerFuzzContext {
  readonly recorder: ReturnType<typeof recordPlans>;
  readonly tally: FuzzTally;
  readonly sampler: NginxSampler;
}

/**
 * One case: refused by name, or valid manifests whose every pod is restricted, whose
 * alertmanager.yml lives only in its Secret, and whose nginx.conf is as modelled and safe.
 */
export function runAlertmanagerCase(c: AlertmanagerCase, context: AlertmanagerFuzzContext): void {
  const { recorder, tally, sampler } = context;
  tally.cases++;
  const known = process.env.FUZZ_INCLUDE_KNOWN ? undefined : KNOWN_ALERTMANAGER_BUGS.find((bug) => bug.matches(c));
  if (known) {
    tally.skip(known.test);
    return;
  }
  recorder.plans.length = 0;
  let built;
  let objects: any[];
  try {
    built = buildAlertmanagerCase(c);
    objects = Testing.synth(built.chart);
  } catch (error) {
    const message = (error as Error)?.message ?? '';
    if (message.includes(c.config.secret)) {
      throw new Error(`a refusal echoes the receiver password: ${message}`);
    }
    if (error instanceof Error && message.startsWith('\'config\' YAML does not parse')) {
      // a YAML error points at a line and column instead of echoing text that holds secrets
      tally.refuse(message);
      return;
    }
    tally.refuse(expectProperRefusal(error, givenAlertmanagerProps(c)));
    return;
  }
  tally.accepted++;
  const { am, config } = built;

  expectValidManifests(objects);
  assertRestricted(objects, { readOnlyRootFilesystem: ['nginx', 'alertmanager'] });
  expectSecretKept(objects, config.yaml, c.config.secret);

  const plan = recorder.plans[recorder.plans.length - 1];
  const tree = expectConfigMatchesModel(am.proxy.nginxConf, plan);
  expectNothingExposed(tree, am.proxy.listenPort, plan.compressorPort);
  expectHeadersApplied(tree, plan.responseHeaders);
  expectNodeProtected(tree, objects);

  if (nginxAvailable() && sampler.shouldCheck(am.proxy.nginxConf)) {
    expectNginxAccepts(objects, 'nginx');
    sampler.accepted(am.proxy.nginxConf);
    tally.nginxChecked++;
  }
}

/**
 * alertmanager.yml lives in exactly one Secret and nowhere else: no ConfigMap, annotation, arg,
 * env or nginx.conf holds it or its `secret` part (as text or base64). Checksum annotations are
 * hex digests, not the text.
 */
export function expectSecretKept(objects: any[], yaml: string, secret: string): void {
  const holders = objects.filter((o) => o.kind === 'Secret' && secretText(o, 'alertmanager.yml') !== undefined);
  if (holders.length !== 1 || secretText(holders[0], 'alertmanager.yml') !== yaml) {
    throw new Error(`expected one Secret holding alertmanager.yml byte for byte, found ${holders.length}`);
  }
  const forms = [secret, Buffer.from(secret).toString('base64'), Buffer.from(yaml).toString('base64').slice(0, 40)];
  for (const object of objects) {
    if (object === holders[0]) {
      continue;
    }
    const text = JSON.stringify(object);
    const leaked = forms.find((form) => text.includes(form));
    if (leaked !== undefined || (yaml.length > 20 && text.includes(JSON.stringify(yaml).slice(1, -1)))) {
      throw new Error(`${object.kind}/${object.metadata?.name} holds the secret or alertmanager.yml`);
    }
    if (object.kind === 'ConfigMap' && JSON.stringify(object).includes('receivers')) {
      throw new Error(`ConfigMap/${object.metadata?.name} looks like it holds alertmanager.yml`);
    }
    const annotations = [object.metadata?.annotations, object.spec?.template?.metadata?.annotations];
    for (const [key, value] of annotations.flatMap((a) => Object.entries<string>(a ?? {}))) {
      if (/checksum/.test(key) && !/^[0-9a-f]{64}$/.test(value)) {
        throw new Error(`annotation ${key} is not a sha256 hex digest: ${value.slice(0, 40)}`);
      }
    }
  }
}

function secretText(secret: any, key: string): string | undefined {
  if (secret.stringData?.[key] !== undefined) {
    return secret.stringData[key];
  }
  return secret.data?.[key] !== undefined ? Buffer.from(secret.data[key], 'base64').toString('utf8') : undefined;
}
