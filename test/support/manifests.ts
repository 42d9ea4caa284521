import { createRequire } from 'module';
import { Chart, Testing } from 'cdk8s';

/**
 * Options for {@link validateManifests}.
 */
export interface ValidateManifestsOptions {
  /**
   * Accept objects whose apiVersion and kind kubernetes-models has no schema for (CRDs).
   *
   * @default false - an unknown kind is reported as a problem
   */
  readonly allowUnknownKinds?: boolean;
}

/**
 * Throws one Error listing every problem found in `objects`: schema errors from kubernetes-models
 * (types, required fields) and the apiserver rules those schemas leave out (names, port ranges,
 * references between objects). Returns nothing when the manifests are valid.
 */
export function validateManifests(objects: any[], options: ValidateManifestsOptions = {}): void {
  const problems = findManifestProblems(objects, options);
  if (problems.length > 0) {
    const list = problems.map((problem) => `  - ${problem}`).join('\n');
    throw new Error(`${problems.length} manifest problem(s):\n${list}`);
  }
}

/**
 * Synthesizes `chart` with `Testing.synth`, validates the result and returns it.
 */
export function synthAndValidate(chart: Chart, options: ValidateManifestsOptions = {}): any[] {
  const objects = Testing.synth(chart);
  validateManifests(objects, options);
  return objects;
}

/**
 * Every problem in `objects`, one line each, prefixed with `Kind/name`; empty when valid.
 */
export function findManifestProblems(
  objects: any[],
  options: ValidateManifestsOptions = {},
): string[] {
  const problems: string[] = [];
  objects.forEach((object, index) => {
    if (!isObject(object) || typeof object.apiVersion !== 'string'
      || typeof object.kind !== 'string') {
      problems.push(`object #${index}: apiVersion and kind must be strings`);
      return;
    }
    const report = (message: string) =>
      problems.push(`${object.kind}/${object.metadata?.name ?? `#${index}`}: ${message}`);
    checkSchema(object, options, report);
    checkMetadata(object, report);
    checkConfigMapKeys(object, report);
    const pod = podTemplateOf(object);
    if (pod) {
      checkSelector(object, pod, report);
      // a StatefulSet's claim templates become volumes of the same name in each pod
      const claims = (object.kind === 'StatefulSet' ? object.spec?.volumeClaimTemplates ?? [] : [])
        .map((claim: any) => claim?.metadata?.name);
      checkPodSpec(pod.spec, pod.path, objects, report, claims);
    }
    if (object.kind === 'Service') {
      checkServicePorts(object, objects, report);
    }
    if (object.kind === 'Ingress') {
      checkIngressBackends(object, objects, report);
    }
  });
  return problems;
}

type Report = (message: string) => void;

interface PodTemplate {
  readonly spec: any;
  readonly labels: Record<string, string>;
  /** field path of the pod spec inside its object, for messages */
  readonly path: string;
}

// the apiserver's own patterns (k8s.io/apimachinery/pkg/util/validation)
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;
const API_VERSION = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;

const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'];
// kinds whose names the apiserver checks as DNS-1123 labels, not subdomains
const LABEL_NAMED_KINDS = ['Namespace'];

function checkSchema(object: any, options: ValidateManifestsOptions, report: Report): void {
  const model = modelClassFor(object.apiVersion, object.kind);
  if (!model) {
    if (!options.allowUnknownKinds) {
      report(`no Kubernetes schema for apiVersion ${object.apiVersion}, kind ${object.kind}`);
    }
    return;
  }
  try {
    new model(object).validate();
  } catch (error: any) {
    const details: any[] = Array.isArray(error?.errors) ? error.errors : [];
    if (details.length === 0) {
      report(`schema: ${error?.message ?? error}`);
    }
    for (const detail of details) {
      const where = detail.instancePath
        ? detail.instancePath.slice(1).replace(/\//g, '.') : '(root)';
      const missing = detail.params?.missingProperty;
      report(`schema: ${where} ${missing ? `lacks required field '${missing}'` : detail.message}`);
    }
  }
}

// the package index loads every schema of every group; one group/version at a time is faster
const loadModule = createRequire(__filename);
const modelCache = new Map<string, any>();

function modelClassFor(apiVersion: string, kind: string): any {
  if (!API_VERSION.test(apiVersion)) {
    return undefined;
  }
  if (!modelCache.has(apiVersion)) {
    let exports: any;
    try {
      exports = loadModule(`kubernetes-models/${apiVersion}`);
    } catch {
      exports = {};
    }
    modelCache.set(apiVersion, exports);
  }
  const candidate = modelCache.get(apiVersion)[kind];
  return typeof candidate === 'function' && candidate.kind === kind ? candidate : undefined;
}

function checkMetadata(object: any, report: Report): void {
  const name = object.metadata?.name;
  if (typeof name === 'string') {
    if (object.kind === 'Service') {
      checkName(name, DNS1035_LABEL, 63, 'metadata.name (DNS-1035 label)', report);
    } else if (LABEL_NAMED_KINDS.includes(object.kind)) {
      checkName(name, DNS1123_LABEL, 63, 'metadata.name (DNS-1123 label)', report);
    } else {
      checkName(name, DNS1123_SUBDOMAIN, 253, 'metadata.name (DNS-1123 subdomain)', report);
    }
  }
  if (object.metadata?.namespace !== undefined) {
    checkName(object.metadata.namespace, DNS1123_LABEL, 63, 'metadata.namespace', report);
  }
  checkLabelsAndAnnotations(object.metadata, 'metadata', report);
}

function checkLabelsAndAnnotations(metadata: any, path: string, report: Report): void {
  for (const [key, value] of Object.entries<any>(metadata?.labels ?? {})) {
    checkQualifiedKey(key, `${path}.labels`, report);
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      report(`${path}.labels['${key}'] value ${JSON.stringify(value)} is not a valid label value`);
    }
  }
  for (const key of Object.keys(metadata?.annotations ?? {})) {
    checkQualifiedKey(key, `${path}.annotations`, report);
  }
}

function checkQualifiedKey(key: string, path: string, report: Report): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefixOk = prefix === undefined
    || (prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix));
  if (!prefixOk || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    report(`${path} key '${key}' is not a qualified name ([prefix/]name, name <= 63 chars)`);
  }
}

function checkConfigMapKeys(object: any, report: Report): void {
  if (object.kind !== 'ConfigMap' && object.kind !== 'Secret') {
    return;
  }
  const sections = ['data', 'binaryData', 'stringData'];
  for (const section of sections) {
    for (const key of Object.keys(object[section] ?? {})) {
      if (key.length > 253 || !CONFIG_MAP_KEY.test(key)) {
        report(`${section} key '${key}' must match [-._a-zA-Z0-9]+ and be at most 253 chars`);
      }
    }
  }
  const size = Buffer.byteLength(JSON.stringify(sections.map((s) => object[s] ?? {})));
  if (size > 1024 * 1024) {
    report(`holds about ${size} bytes of data; the apiserver limit is 1 MiB`);
  }
}

function podTemplateOf(object: any): PodTemplate | undefined {
  if (object.kind === 'Pod' && isObject(object.spec)) {
    return { spec: object.spec, labels: object.metadata?.labels ?? {}, path: 'spec' };
  }
  const template = WORKLOAD_KINDS.includes(object.kind) ? object.spec?.template
    : object.kind === 'CronJob' ? object.spec?.jobTemplate?.spec?.template : undefined;
  if (!isObject(template?.spec)) {
    return undefined;
  }
  const path = object.kind === 'CronJob' ? 'spec.jobTemplate.spec.template' : 'spec.template';
  return { spec: template.spec, labels: template.metadata?.labels ?? {}, path: `${path}.spec` };
}

function checkSelector(object: any, pod: PodTemplate, report: Report): void {
  if (object.kind === 'Pod' || object.kind === 'CronJob' || object.kind === 'Job') {
    return;
  }
  const podPath = pod.path.replace(/\.spec$/, '');
  checkLabelsAndAnnotations(object.spec.template?.metadata, `${podPath}.metadata`, report);
  for (const [key, value] of Object.entries(object.spec?.selector?.matchLabels ?? {})) {
    if (pod.labels[key] !== value) {
      report(`spec.selector.matchLabels ${key}=${value} does not match the pod template labels`);
    }
  }
}

function allContainers(spec: any): { container: any; path: string }[] {
  const found: { container: any; path: string }[] = [];
  for (const field of ['initContainers', 'containers']) {
    (spec?.[field] ?? []).forEach((container: any, i: number) => {
      found.push({ container, path: `${field}[${i}]` });
    });
  }
  return found;
}

function checkPodSpec(
  spec: any, specPath: string, objects: any[], report: Report, claimNames: string[] = [],
): void {
  const containerNames = new Set<string>();
  const portNames = new Set<string>();
  const volumes = new Map<string, any>(claimNames.map((name) => [name, { name }]));

  for (const volume of spec.volumes ?? []) {
    checkName(volume?.name, DNS1123_LABEL, 63, `${specPath}.volumes name`, report);
    if (volumes.has(volume?.name)) {
      report(`${specPath}.volumes: duplicate name '${volume.name}'`);
    }
    volumes.set(volume?.name, volume);
    checkVolumeItems(volume, specPath, objects, report);
  }

  for (const { container, path } of allContainers(spec)) {
    const at = `${specPath}.${path}`;
    checkName(container?.name, DNS1123_LABEL, 63, `${at}.name`, report);
    if (containerNames.has(container?.name)) {
      report(`${at}: duplicate container name '${container.name}'`);
    }
    containerNames.add(container?.name);

    const ownPortNames = new Set<string>();
    (container?.ports ?? []).forEach((port: any, i: number) => {
      checkPortNumber(port?.containerPort, `${at}.ports[${i}].containerPort`, report);
      if (port?.hostPort !== undefined) {
        checkPortNumber(port.hostPort, `${at}.ports[${i}].hostPort`, report);
      }
      if (port?.name !== undefined) {
        checkIanaServiceName(port.name, `${at}.ports[${i}].name`, report);
        if (portNames.has(port.name)) {
          report(`${at}.ports[${i}]: duplicate port name '${port.name}' in the pod`);
        }
        portNames.add(port.name);
        ownPortNames.add(port.name);
      }
    });

    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      for (const handler of ['httpGet', 'tcpSocket', 'grpc']) {
        const port = container?.[probe]?.[handler]?.port;
        if (port !== undefined) {
          checkPortReference(port, ownPortNames, `${at}.${probe}.${handler}.port`, report);
        }
      }
    }

    (container?.volumeMounts ?? []).forEach((mount: any, i: number) => {
      if (!volumes.has(mount?.name)) {
        report(`${at}.volumeMounts[${i}] refers to volume '${mount?.name}', which the pod lacks`);
      }
      if (typeof mount?.mountPath !== 'string' || !mount.mountPath.startsWith('/')) {
        report(`${at}.volumeMounts[${i}].mountPath must be an absolute path`);
      }
    });
  }
}

function checkVolumeItems(volume: any, specPath: string, objects: any[], report: Report): void {
  const source = volume?.configMap ?? volume?.secret;
  if (!source || source.optional) {
    return;
  }
  const kind = volume.configMap ? 'ConfigMap' : 'Secret';
  const name = volume.configMap ? source.name : source.secretName;
  const target = objects.find((o) => o?.kind === kind && o.metadata?.name === name);
  if (!target) {
    // the object may be created outside this chart
    return;
  }
  const keys = new Set([
    ...Object.keys(target.data ?? {}),
    ...Object.keys(target.binaryData ?? {}),
    ...Object.keys(target.stringData ?? {}),
  ]);
  for (const item of source.items ?? []) {
    if (!keys.has(item?.key)) {
      report(`${specPath}.volumes '${volume.name}' item key '${item?.key}' `
        + `is not in ${kind} ${name}`);
    }
  }
}

function checkServicePorts(service: any, objects: any[], report: Report): void {
  const ports: any[] = service.spec?.ports ?? [];
  const names = new Set<string>();
  const containerPortNames = containerPortNamesFor(service.spec?.selector, objects);
  ports.forEach((port, i) => {
    const at = `spec.ports[${i}]`;
    checkPortNumber(port?.port, `${at}.port`, report);
    if (port?.nodePort !== undefined) {
      checkPortNumber(port.nodePort, `${at}.nodePort`, report);
    }
    if (port?.name !== undefined) {
      checkName(port.name, DNS1123_LABEL, 63, `${at}.name`, report);
      if (names.has(port.name)) {
        report(`${at}: duplicate port name '${port.name}'`);
      }
      names.add(port.name);
    } else if (ports.length > 1) {
      report(`${at}.name is required when a Service has more than one port`);
    }
    if (port?.targetPort !== undefined) {
      checkPortReference(port.targetPort, containerPortNames, `${at}.targetPort`, report);
    }
  });
}

/**
 * Container port names of the workloads the selector picks; of all workloads if it picks none
 * of them, and `undefined` (nothing to check against) when the manifests hold no workload.
 */
function containerPortNamesFor(selector: any, objects: any[]): Set<string> | undefined {
  const pods = objects.map(podTemplateOf).filter((pod): pod is PodTemplate => !!pod);
  if (pods.length === 0) {
    return undefined;
  }
  const selected = pods.filter((pod) => selector && Object.entries(selector)
    .every(([key, value]) => pod.labels[key] === value));
  const names = new Set<string>();
  for (const pod of selected.length > 0 ? selected : pods) {
    for (const { container } of allContainers(pod.spec)) {
      for (const port of container?.ports ?? []) {
        if (typeof port?.name === 'string') {
          names.add(port.name);
        }
      }
    }
  }
  return names;
}

function checkIngressBackends(ingress: any, objects: any[], report: Report): void {
  const backends: { backend: any; path: string }[] = [];
  if (ingress.spec?.defaultBackend) {
    backends.push({ backend: ingress.spec.defaultBackend, path: 'spec.defaultBackend' });
  }
  (ingress.spec?.rules ?? []).forEach((rule: any, r: number) => {
    (rule?.http?.paths ?? []).forEach((entry: any, p: number) => {
      const at = `spec.rules[${r}].http.paths[${p}].backend`;
      backends.push({ backend: entry?.backend, path: at });
    });
  });
  for (const { backend, path } of backends) {
    const port = backend?.service?.port;
    if (port?.number !== undefined) {
      checkPortNumber(port.number, `${path}.service.port.number`, report);
    }
    const service = objects.find((o) => o?.kind === 'Service'
      && o.metadata?.name === backend?.service?.name);
    if (service && port?.name !== undefined) {
      const names = new Set<string>((service.spec?.ports ?? []).map((p: any) => p?.name));
      if (!names.has(port.name)) {
        report(`${path}.service.port.name '${port.name}' `
          + `is not a port of Service ${service.metadata.name}`);
      }
    }
  }
}

/** A number in 1..65535 or a port name that `knownNames` (when given) must contain. */
function checkPortReference(
  port: unknown,
  knownNames: Set<string> | undefined,
  path: string,
  report: Report,
): void {
  if (typeof port === 'number') {
    checkPortNumber(port, path, report);
  } else if (typeof port === 'string') {
    checkIanaServiceName(port, path, report);
    if (knownNames && !knownNames.has(port)) {
      const known = [...knownNames].join(', ') || 'none';
      report(`${path} '${port}' names no container port (known: ${known})`);
    }
  } else {
    report(`${path} must be a number or a port name, got ${JSON.stringify(port)}`);
  }
}

function checkPortNumber(port: unknown, path: string, report: Report): void {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    report(`${path} must be an integer in 1..65535, got ${JSON.stringify(port)}`);
  }
}

function checkIanaServiceName(name: unknown, path: string, report: Report): void {
  const ok = typeof name === 'string' && name.length <= 15 && IANA_SVC_NAME.test(name)
    && /[a-z]/.test(name) && !name.includes('--');
  if (!ok) {
    report(`${path} ${JSON.stringify(name)} is not an IANA service name `
      + '(at most 15 of a-z, 0-9 and -, one letter at least, no leading, trailing or double -)');
  }
}

function checkName(
  name: unknown,
  pattern: RegExp,
  max: number,
  what: string,
  report: Report,
): void {
  // a missing name is the schema's to report
  if (name !== undefined
    && (typeof name !== 'string' || name.length > max || !pattern.test(name))) {
    report(`${what} ${JSON.stringify(name)} must match ${pattern.source} `
      + `and be at most ${max} chars`);
  }
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
