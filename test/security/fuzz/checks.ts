import { createHash } from 'crypto';
import * as fc from 'fast-check';
import { NginxConfigFile, NginxDirective } from '../../../src/nginx/directive';
import * as nginxConfigModule from '../../../src/nginx/nginx-config';
import { validateManifests } from '../../support/manifests';
import { checkNginxConfig, layOutPod, toolPath } from '../../support/nginx';
import { ParsedDirective, parseNginxConfig } from '../../support/nginx-parser';
import { removeTree } from '../../support/processes';

// ---------------------------------------------------------------------------------------------
// run counts and replay

/**
 * fast-check parameters for one property. `FUZZ_RUNS` sets the number of cases (the `test:fuzz`
 * task sets 10000); `FUZZ_SEED` and `FUZZ_PATH` replay a failure that fast-check reported.
 */
export function fuzzParameters<T>(defaultRuns: number): fc.Parameters<T> {
  const runs = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : defaultRuns;
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
  return {
    numRuns: runs,
    seed,
    path: process.env.FUZZ_PATH,
    // fast-check's report carries the seed, the path and the shrunk counterexample
    verbose: process.env.FUZZ_VERBOSE ? fc.VerbosityLevel.Verbose : fc.VerbosityLevel.None,
    endOnFailure: !!process.env.FUZZ_PATH,
    // shrinking a case costs a synth and an nginx -t per step: bound it
    interruptAfterTimeLimit: process.env.FUZZ_TIME_LIMIT_MS ? Number(process.env.FUZZ_TIME_LIMIT_MS) : undefined,
  };
}

/** Counts what a property saw, for the summary each fuzz test prints. */
export class FuzzTally {
  public cases = 0;
  public refused = 0;
  public accepted = 0;
  public nginxChecked = 0;
  public skippedKnown = 0;
  public readonly refusedBy = new Map<string, number>();
  public readonly skippedBy = new Map<string, number>();

  public skip(bug: string): void {
    this.skippedKnown++;
    this.skippedBy.set(bug, (this.skippedBy.get(bug) ?? 0) + 1);
  }

  public refuse(message: string): void {
    this.refused++;
    const prop = /'([^']+)'/.exec(message)?.[1] ?? '?';
    this.refusedBy.set(prop, (this.refusedBy.get(prop) ?? 0) + 1);
  }

  public summary(title: string, ms: number): string {
    const top = [...this.refusedBy.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)
      .map(([prop, n]) => `${prop}: ${n}`).join(', ');
    return `${title}: ${this.cases} cases in ${(ms / 1000).toFixed(1)} s; ${this.accepted} built `
      + `(${this.nginxChecked} through nginx -t), ${this.refused} refused (${top}), `
      + `${this.skippedKnown} skipped as known bugs`
      + (process.env.FUZZ_VERBOSE ? `\n${[...this.skippedBy].map(([b, n]) => `  ${n} ${b}`).join('\n')}` : '');
  }
}

// ---------------------------------------------------------------------------------------------
// refusals

/**
 * Throws unless `error` is an Error whose message names one of `given`'s props in quotes and
 * shows one of that prop's values.
 */
export function expectProperRefusal(error: unknown, given: Map<string, unknown[]>): string {
  if (!(error instanceof Error)) {
    throw new Error(`threw a non-Error: ${String(error)}`);
  }
  const message = error.message;
  // a nested prop counts for its parent: 'resources.memory.limit' names 'resources'
  const named = [...given.keys()].filter((prop) => message.includes(`'${prop}'`) || message.includes(`'${prop}.`));
  if (named.length === 0) {
    throw new Error(`refusal names no prop in quotes (props given: ${[...given.keys()].join(', ')}): ${message}`);
  }
  const shown = named.some((prop) => given.get(prop)!.some((value) => showsValue(message, value)));
  if (!shown) {
    throw new Error(`refusal names ${named.join(', ')} but shows none of their values: ${message}`);
  }
  return message;
}

/** Whether `message` shows `value` in one of the forms a person would recognize. */
export function showsValue(message: string, value: unknown): boolean {
  if (Array.isArray(value) && value.length === 0) {
    return message.includes('[]');
  }
  if (typeof value === 'string' && value !== '' && value.length < 3) {
    // a short value counts where it stands alone, as in `"= /"` or `got 0`
    const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (new RegExp(`(^|[\\s"'=])${escaped}($|[\\s"',])`).test(message)) {
      return true;
    }
  }
  return renderingsOf(value).some((text) => text !== '' && message.includes(text));
}

function renderingsOf(value: unknown): string[] {
  if (typeof value === 'number') {
    return [String(value)];
  }
  if (typeof value === 'string') {
    const json = JSON.stringify(value);
    const forms = [json, `'${value}'`, value.length >= 3 ? value : json];
    if (value.length > 40) {
      // long values may be cut: a quoted prefix of 20 characters or more will do
      forms.push(JSON.stringify(value.slice(0, 20)).slice(0, -1));
    }
    return forms;
  }
  if (value && typeof value === 'object' && 'unit' in value && 'amount' in value) {
    const { unit, amount } = value as { unit: string; amount: number };
    const forms = [String(amount)];
    const ms = { millis: 1, seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 }[unit];
    const kib = { kibibytes: 1, mebibytes: 1024, gibibytes: 1024 ** 2, tebibytes: 1024 ** 3 }[unit];
    if (ms !== undefined) {
      forms.push(String(amount * ms), String((amount * ms) / 1000));
    }
    if (kib !== undefined) {
      forms.push(String(amount * kib), String((amount * kib) / 1024));
    }
    return forms;
  }
  return [];
}

/** Adds `value` under `prop`, and every leaf inside it too when it is a list or a record. */
export function addGiven(given: Map<string, unknown[]>, prop: string, value: unknown): void {
  if (value === undefined) {
    return;
  }
  const list = given.get(prop) ?? [];
  given.set(prop, list);
  const visit = (v: unknown) => {
    if (Array.isArray(v) && v.length === 0) {
      // an empty list is a value of its own, shown as []
      list.push(v);
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v && typeof v === 'object' && !('unit' in v && 'amount' in v)) {
      Object.values(v).forEach(visit);
    } else if (v !== undefined && typeof v !== 'boolean') {
      list.push(v);
    }
  };
  visit(value);
}

// ---------------------------------------------------------------------------------------------
// the directive tree: model versus what nginx reads

export interface PlainDirective {
  readonly name: string;
  readonly args: string[];
  readonly children?: PlainDirective[];
}

export function plainTree(file: NginxConfigFile): PlainDirective[] {
  const plain = (d: NginxDirective): PlainDirective => (d.children
    ? { name: d.name, args: [...d.args], children: d.children.map(plain) }
    : { name: d.name, args: [...d.args] });
  return file.directives.map(plain);
}

/**
 * Throws with the first place where `actual` differs from `expected`: a directive added,
 * removed, renamed, split or with other arguments.
 */
export function expectSameTree(expected: PlainDirective[], actual: ParsedDirective[], where = ''): void {
  const length = Math.max(expected.length, actual.length);
  for (let i = 0; i < length; i++) {
    const e = expected[i];
    const a = actual[i];
    const at = `${where}/${e?.name ?? a?.name}[${i}]`;
    if (!e || !a) {
      throw new Error(`${at}: ${e ? 'removed' : 'added'} directive ${JSON.stringify(e ?? a)}`);
    }
    if (e.name !== a.name || JSON.stringify(e.args) !== JSON.stringify(a.args)) {
      const meant = JSON.stringify([e.name, ...e.args]);
      throw new Error(`${at}: expected ${meant}, nginx reads ${JSON.stringify([a.name, ...a.args])}`);
    }
    if (!!e.children !== !!a.children) {
      throw new Error(`${at}: expected a ${e.children ? 'block' : 'simple directive'}, nginx reads the other`);
    }
    if (e.children) {
      expectSameTree(e.children, a.children!, at);
    }
  }
}

/**
 * Records the plan of every nginx.conf the library renders, through the module's own export.
 * The sidecar keeps only the rendered text, so this is how a test gets the tree it meant.
 */
export function recordPlans(): { plans: nginxConfigModule.NginxConfigPlan[]; restore(): void } {
  const plans: nginxConfigModule.NginxConfigPlan[] = [];
  const spy = jest.spyOn(nginxConfigModule, 'renderNginxConfig').mockImplementation((plan) => {
    plans.push(plan);
    return nginxConfigModule.buildNginxConfig(plan).render();
  });
  return { plans, restore: () => spy.mockRestore() };
}

/**
 * The rendered text is the model's render, and nginx (as the parser reads it) sees exactly the
 * model's directives. Returns the model tree.
 */
export function expectConfigMatchesModel(rendered: string, plan: nginxConfigModule.NginxConfigPlan): PlainDirective[] {
  const model = nginxConfigModule.buildNginxConfig(plan);
  if (model.render() !== rendered) {
    throw new Error('nginx.conf is not the render of the plan the sidecar built');
  }
  const tree = plainTree(model);
  expectSameTree(tree, parseNginxConfig(rendered));
  return tree;
}

// ---------------------------------------------------------------------------------------------
// manifests

/**
 * Apiserver rules that validateManifests leaves out and generated input can break: image
 * strings, resource requests above limits, quantities, Ingress hosts and Secret names.
 */
export function extraApiserverProblems(objects: any[]): string[] {
  const problems: string[] = [];
  const quantity = /^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;
  const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  for (const object of objects) {
    const id = `${object.kind}/${object.metadata?.name}`;
    const pod = object.kind === 'Pod' ? object.spec
      : object.kind === 'CronJob' ? object.spec?.jobTemplate?.spec?.template?.spec : object.spec?.template?.spec;
    for (const container of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
      const image = container.image;
      // the apiserver refuses an empty image or surrounding whitespace; runtimes cannot parse
      // a reference with whitespace or control characters inside
      if (typeof image !== 'string' || image === '' || /[\s\p{Cc}]/u.test(image)) {
        problems.push(`${id} container ${container.name}: image ${JSON.stringify(image)} is empty `
          + 'or holds whitespace or control characters');
      }
      const { requests = {}, limits = {} } = container.resources ?? {};
      for (const [kind, value] of [...Object.entries<any>(requests), ...Object.entries<any>(limits)]) {
        if (!quantity.test(String(value))) {
          problems.push(`${id} container ${container.name}: ${kind} ${JSON.stringify(value)} is not a quantity`);
        }
      }
      for (const kind of Object.keys(limits)) {
        if (requests[kind] !== undefined && quantityValue(requests[kind]) > quantityValue(limits[kind])) {
          problems.push(`${id} container ${container.name}: ${kind} request ${requests[kind]} `
            + `exceeds limit ${limits[kind]}`);
        }
      }
    }
    for (const volume of pod?.volumes ?? []) {
      const limit = volume.emptyDir?.sizeLimit;
      if (limit !== undefined && !quantity.test(String(limit))) {
        problems.push(`${id} volume ${volume.name}: sizeLimit ${JSON.stringify(limit)} is not a quantity`);
      }
    }
    if (object.kind === 'Ingress') {
      for (const rule of object.spec?.rules ?? []) {
        if (rule.host !== undefined && !subdomain.test(String(rule.host).replace(/^\*\./, ''))) {
          problems.push(`${id}: host ${JSON.stringify(rule.host)} is not a DNS-1123 subdomain`);
        }
      }
      for (const tls of object.spec?.tls ?? []) {
        if (tls.secretName !== undefined && !subdomain.test(tls.secretName)) {
          problems.push(`${id}: tls secretName ${JSON.stringify(tls.secretName)} is not a DNS-1123 subdomain`);
        }
      }
      const className = object.spec?.ingressClassName;
      if (className !== undefined && !subdomain.test(className)) {
        problems.push(`${id}: ingressClassName ${JSON.stringify(className)} is not a DNS-1123 subdomain`);
      }
    }
  }
  return problems;
}

const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1,
  'm': 1e-3,
  'k': 1e3,
  'M': 1e6,
  'G': 1e9,
  'T': 1e12,
  'P': 1e15,
  'E': 1e18,
  'Ki': 1024,
  'Mi': 1024 ** 2,
  'Gi': 1024 ** 3,
  'Ti': 1024 ** 4,
  'Pi': 1024 ** 5,
  'Ei': 1024 ** 6,
};

/** A Kubernetes quantity as a number (binary and decimal suffixes, or a plain exponent). */
export function quantityValue(text: string | number): number {
  const match = /^([+-]?[\d.]+(?:[eE][+-]?\d+)?)([A-Za-z]*)$/.exec(String(text));
  if (!match || !(match[2] in QUANTITY_SUFFIX)) {
    return NaN;
  }
  return Number(match[1]) * QUANTITY_SUFFIX[match[2]];
}

/** validateManifests plus {@link extraApiserverProblems}. */
export function expectValidManifests(objects: any[]): void {
  validateManifests(objects);
  const extra = extraApiserverProblems(objects);
  if (extra.length > 0) {
    throw new Error(`${extra.length} apiserver problem(s):\n  - ${extra.join('\n  - ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// real nginx

/** Whether nginx -t runs here: always under CI (a missing nginx then fails), else if installed. */
export function nginxAvailable(): boolean {
  const ci = (process.env.CI ?? '').toLowerCase();
  return !!toolPath('nginx') || (ci !== '' && ci !== '0' && ci !== 'false');
}

/**
 * Lays out the pod of the container `containerName` and runs the real `nginx -t` on it as an
 * unprivileged user; throws with nginx's output when it refuses. The layout is removed after.
 */
export function expectNginxAccepts(objects: any[], containerName = 'nginx'): void {
  const pods = onlyVolumesOf(objects, containerName);
  // nginx -t binds its listen sockets: when another program holds a port, move the ports
  for (let attempt = 0; ; attempt++) {
    const ports: Record<number, number> = {};
    if (attempt > 0) {
      for (const port of listenPortsOf(pods)) {
        ports[port] = 20_000 + Math.floor(Math.random() * 40_000);
      }
    }
    const layout = layOutPod(pods, { containerName, ports });
    try {
      const result = checkNginxConfig(layout);
      if (result.ok) {
        return;
      }
      if (!/Address already in use/.test(result.output) || attempt >= 3) {
        throw new Error(`nginx -t refused the config:\n${result.output}`);
      }
    } finally {
      removeTree(layout.root);
    }
  }
}

/** Ports the nginx.conf ConfigMaps in `objects` listen on. */
function listenPortsOf(objects: any[]): number[] {
  const configs: string[] = objects
    .filter((o) => o.kind === 'ConfigMap' && typeof o.data?.['nginx.conf'] === 'string')
    .map((o) => o.data['nginx.conf']);
  return configs.flatMap((config) => [...config.matchAll(/\blisten\s+(?:127\.0\.0\.1:)?(\d+);/g)]
    .map((match) => Number(match[1])));
}

/**
 * A copy of `objects` where the pod holding `containerName` keeps only the volumes that container
 * mounts: layOutPod lays out configMap, secret and emptyDir volumes only, and the user's other
 * volumes (a hostPath, a claim) mean nothing to nginx.
 */
function onlyVolumesOf(objects: any[], containerName: string): any[] {
  return objects.map((object) => {
    const copy = JSON.parse(JSON.stringify(object));
    const pod = copy.kind === 'Pod' ? copy.spec
      : copy.kind === 'CronJob' ? copy.spec?.jobTemplate?.spec?.template?.spec : copy.spec?.template?.spec;
    const container = (pod?.containers ?? []).find((c: any) => c.name === containerName);
    if (container) {
      const mounted = new Set((container.volumeMounts ?? []).map((m: any) => m.name));
      pod.volumes = (pod.volumes ?? []).filter((v: any) => mounted.has(v.name));
    }
    return copy;
  });
}

/**
 * Decides which accepted cases also go through nginx -t: all of them when `FUZZ_NGINX_EVERY`
 * is 1, else one in that many, chosen by a hash of the config so that the choice is the same
 * on replay. Configs already accepted are not run again.
 */
export class NginxSampler {
  private readonly seen = new Set<string>();
  private readonly every: number;

  public constructor(defaultEvery: number) {
    this.every = process.env.FUZZ_NGINX_EVERY ? Number(process.env.FUZZ_NGINX_EVERY) : defaultEvery;
  }

  public shouldCheck(config: string): boolean {
    const hash = createHash('sha1').update(config).digest();
    const key = hash.toString('hex');
    if (this.seen.has(key)) {
      return false;
    }
    return hash.readUInt32BE(0) % this.every === 0;
  }

  public accepted(config: string): void {
    this.seen.add(createHash('sha1').update(config).digest('hex'));
  }
}

// ---------------------------------------------------------------------------------------------
// exposure and limits, on the model tree

export function find(tree: PlainDirective[], name: string): PlainDirective[] {
  return tree.filter((d) => d.name === name);
}

export function walk(tree: PlainDirective[], visit: (d: PlainDirective, parents: PlainDirective[]) => void,
  parents: PlainDirective[] = []): void {
  for (const directive of tree) {
    visit(directive, parents);
    if (directive.children) {
      walk(directive.children, visit, [...parents, directive]);
    }
  }
}

/**
 * nginx exposes nothing by accident: the public server listens on `listenPort` alone (all
 * addresses), the compressor on 127.0.0.1 only, `server_tokens off` at http level, every
 * proxy_pass goes to an upstream whose servers are on 127.0.0.1, and add_header appears only at
 * the public server's level, always with `always`.
 */
export function expectNothingExposed(
  tree: PlainDirective[], listenPort: number, compressorPort: number, listenOnIpv6 = false,
): void {
  const http = find(tree, 'http');
  if (http.length !== 1) {
    throw new Error(`expected one http block, found ${http.length}`);
  }
  const body = http[0].children!;
  if (JSON.stringify(find(body, 'server_tokens')) !== JSON.stringify([{ name: 'server_tokens', args: ['off'] }])) {
    throw new Error(`http must hold exactly 'server_tokens off', got ${JSON.stringify(find(body, 'server_tokens'))}`);
  }
  const listens: string[] = [];
  walk(tree, (d, parents) => {
    if (d.name === 'listen') {
      if (parents.map((p) => p.name).join('/') !== 'http/server') {
        throw new Error(`listen outside http/server: ${JSON.stringify(parents.map((p) => p.name))}`);
      }
      listens.push(d.args.join(' '));
    }
  });
  const expected = [`127.0.0.1:${compressorPort}`, `${listenPort}`, ...(listenOnIpv6 ? [`[::]:${listenPort}`] : [])].sort();
  if (JSON.stringify([...listens].sort()) !== JSON.stringify(expected)) {
    throw new Error(`listen directives ${JSON.stringify(listens)}, expected exactly ${JSON.stringify(expected)}`);
  }
  const upstreams = new Map<string, string[]>();
  for (const upstream of find(body, 'upstream')) {
    upstreams.set(upstream.args[0], find(upstream.children!, 'server').map((s) => s.args[0]));
  }
  for (const [name, servers] of upstreams) {
    if (servers.length === 0 || servers.some((server) => !/^127\.0\.0\.1:\d+$/.test(server))) {
      throw new Error(`upstream ${name} has servers ${JSON.stringify(servers)}, not only 127.0.0.1`);
    }
  }
  walk(tree, (d, parents) => {
    if (d.name === 'proxy_pass') {
      const host = /^http:\/\/([^/:]+)/.exec(d.args[0])?.[1];
      if (!host || (!upstreams.has(host) && host !== '127.0.0.1')) {
        throw new Error(`proxy_pass ${d.args[0]} does not go to a loopback upstream`);
      }
    }
    if (d.name === 'add_header') {
      const at = parents.map((p) => p.name).join('/');
      const isPublic = at === 'http/server'
        && find(parents[1].children!, 'listen').some((l) => l.args[0] === `${listenPort}`);
      if (!isPublic) {
        throw new Error(`add_header ${d.args[0]} at ${at}, not at the public server's level: it would hide the others`);
      }
      if (d.args[d.args.length - 1] !== 'always' || d.args.length !== 3) {
        throw new Error(`add_header ${JSON.stringify(d.args)} is not 'name value always'`);
      }
    }
  });
}

/** nginx's size text (`12k`, `3m`, `1g`, plain bytes) in bytes. */
export function nginxBytes(text: string): number {
  const match = /^(\d+)([kKmMgG]?)$/.exec(text);
  if (!match) {
    return NaN;
  }
  const factor = { '': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3 }[match[2].toLowerCase()]!;
  return Number(match[1]) * factor;
}

/**
 * Limits that protect the node: the state emptyDir has a sizeLimit, the cache's max_size fits
 * inside it with room to spare, and body size and buffers are bounded.
 */
export function expectNodeProtected(tree: PlainDirective[], objects: any[], stateVolume = 'nginx-state'): void {
  const http = find(tree, 'http')[0].children!;
  const cachePath = find(http, 'proxy_cache_path');
  if (cachePath.length !== 1) {
    throw new Error(`expected one proxy_cache_path, got ${cachePath.length}`);
  }
  const maxSizeArg = cachePath[0].args.find((a) => a.startsWith('max_size='));
  const maxSize = maxSizeArg ? nginxBytes(maxSizeArg.slice('max_size='.length)) : NaN;
  const limits: number[] = [];
  for (const object of objects) {
    const pod = object.kind === 'Pod' ? object.spec
      : object.kind === 'CronJob' ? object.spec?.jobTemplate?.spec?.template?.spec : object.spec?.template?.spec;
    for (const volume of pod?.volumes ?? []) {
      if (volume.name === stateVolume) {
        limits.push(quantityValue(volume.emptyDir?.sizeLimit));
      }
    }
  }
  if (limits.length === 0 || limits.some((limit) => !Number.isFinite(limit))) {
    throw new Error(`the ${stateVolume} emptyDir must have a sizeLimit, got ${JSON.stringify(limits)}`);
  }
  for (const limit of limits) {
    // the cache may overshoot max_size until the cache manager runs; temp files need room too
    if (!(maxSize > 0) || maxSize + 32 * 1024 ** 2 > limit) {
      throw new Error(`cache max_size ${maxSizeArg} leaves less than 32 MiB of the emptyDir's `
        + `sizeLimit ${limit} bytes`);
    }
  }
  const single = (name: string) => {
    const found = find(http, name);
    if (found.length !== 1) {
      throw new Error(`expected one ${name} at http level, got ${found.length}`);
    }
    return found[0].args;
  };
  const body = nginxBytes(single('client_max_body_size')[0]);
  if (!(body > 0 && body <= 1024 ** 3)) {
    throw new Error(`client_max_body_size ${single('client_max_body_size')[0]} is 0 (unbounded) or above 1 GiB`);
  }
  const bodyBuffer = nginxBytes(single('client_body_buffer_size')[0]);
  const [count, each] = single('proxy_buffers');
  const proxyBuffers = Number(count) * nginxBytes(each);
  const others = ['proxy_buffer_size', 'proxy_busy_buffers_size'].map((name) => nginxBytes(single(name)[0]));
  for (const [what, bytes] of [['client_body_buffer_size', bodyBuffer], ['proxy_buffers', proxyBuffers],
    ['proxy_buffer_size', others[0]], ['proxy_busy_buffers_size', others[1]]] as const) {
    if (!(bytes > 0 && bytes <= 1024 ** 2)) {
      throw new Error(`${what} is ${bytes} bytes per request, not within 1 byte..1 MiB`);
    }
  }
}
