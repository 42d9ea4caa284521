import * as fc from 'fast-check';

/*
 * Generators of plain-data cases. Every case is JSON-like (no cdk8s objects), so that fast-check
 * prints a counterexample that reads as the input a user wrote; build.ts turns it into API calls.
 */

/** A Duration as a user writes it: `Duration[unit](amount)`. */
export interface DurationSpec {
  readonly unit: 'millis' | 'seconds' | 'minutes' | 'hours' | 'days';
  readonly amount: number;
}

/** A Size as a user writes it: `Size[unit](amount)`. */
export interface SizeSpec {
  readonly unit: 'kibibytes' | 'mebibytes' | 'gibibytes' | 'tebibytes';
  readonly amount: number;
}

export type RouteKind = 'cached' | 'microCached' | 'uncached' | 'followingAppHeaders' | 'webSocket';

export interface RouteSpec {
  readonly kind: RouteKind;
  readonly path: string;
  readonly exact?: boolean;
  readonly browserCacheFor?: DurationSpec;
  readonly validFor?: DurationSpec;
  readonly serveStaleOnError?: boolean;
  /** Only `webSocket` routes take it. */
  readonly idleTimeout?: DurationSpec;
}

export interface OverrideSpec {
  readonly via: 'string' | 'base64' | 'file' | 'missing-file';
  readonly urlPath: string;
  /** Text for `fromString` and `fromFile`; base64 text for `fromBase64`. */
  readonly content: string;
  readonly contentType?: string;
  readonly browserCacheFor?: DurationSpec;
}

export interface HeaderSpec {
  readonly name: string;
  readonly value: string;
}

export interface ResourcesSpec {
  readonly cpuMillis?: number;
  readonly memoryRequest?: SizeSpec;
  readonly memoryLimit?: SizeSpec;
}

/** The workload the sidecar is attached to. */
export type TargetKind =
  | 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'Pod'
  /** a kplus Deployment patched to meet restricted on its own */
  | 'HardenedDeployment'
  /** a raw apps/v1 Deployment that meets restricted */
  | 'RawRestricted'
  /** a raw workload with a root, privileged container, hostPath and host namespaces */
  | 'RawLoose';

export interface TargetSpec {
  readonly kind: TargetKind;
  /** The port the app container declares. */
  readonly appPort: number;
  /** Expose the workload through a Service (and maybe an Ingress) and call exposeVia. */
  readonly expose: 'none' | 'service' | 'service+ingress';
}

export interface SidecarCase {
  readonly target: TargetSpec;
  /** `'app'` means: the port the app declares. */
  readonly upstreamPort: number | 'app';
  readonly listenPort?: number;
  readonly compressorPort?: number;
  readonly routes?: RouteSpec[];
  readonly overrides?: OverrideSpec[];
  readonly healthPath?: string;
  readonly timeouts?: { connect?: DurationSpec; read?: DurationSpec; send?: DurationSpec };
  readonly cache?: { maxSize?: SizeSpec; inactive?: DurationSpec };
  readonly compression?: { level?: number; minLength?: SizeSpec; types?: string[] };
  readonly clientMaxBodySize?: SizeSpec;
  readonly workerProcesses?: number;
  readonly workerConnections?: number;
  readonly listenOnIpv6?: boolean;
  /** `'recommended'` stands for `SecurityHeaders.recommended()`. */
  readonly responseHeaders?: HeaderSpec[] | 'recommended';
  readonly image?: string;
  readonly containerName?: string;
  readonly resources?: ResourcesSpec;
}

// ---------------------------------------------------------------------------------------------
// each value comes well-formed most of the time and hostile otherwise, so that most cases have
// at most one bad prop: a refusal must then name that one

/** Well-formed ten times in eleven, hostile otherwise. */
export function mostlyGood<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> {
  return fc.oneof({ weight: 10, arbitrary: good }, { weight: 1, arbitrary: bad });
}

// ---------------------------------------------------------------------------------------------
// strings

/**
 * Characters that mean something to nginx's tokenizer, to YAML, to shells or to Kubernetes, plus
 * control characters, non-ASCII letters, a no-break space, a line separator and a lone surrogate.
 */
const NASTY_CHARS = [
  ';', '{', '}', '#', "'", '"', '$', '\\', '\n', '\r', '\0', ' ', '\t', '\u00a0', '\u2028',
  'é', 'ß', '中', '😀', '\uD800', '`', '(', ')', '[', ']', '*', '?', '%', '&', '|', '^', '!', '~',
  '@', '=', ':', ',', '+', '<', '>', '/', '.', '-', '_', 'a', 'b', 'x', 'Z', '0', '9',
];

export const nastyChar = fc.constantFrom(...NASTY_CHARS);
const anyCodePoint = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });

/** Short strings dense in metacharacters, and some that nginx must see as one long word. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.string({ unit: fc.oneof(nastyChar, nastyChar, anyCodePoint), maxLength: 16 }),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom('', ' ', '${', '${x}', '$x', '\\', 'a\\', "'", '"', '#', ';', '{}',
      'a;b', 'x\ny', '\0', 'ok'),
  },
  { weight: 1, arbitrary: fc.integer({ min: 4000, max: 4200 }).map((n) => 'a'.repeat(n)) },
);

const PATH_CHARS = 'abcxyz0129._~@+!*,=:-'.split('');
const segment = fc.oneof(
  { weight: 12, arbitrary: fc.string({ unit: fc.constantFrom(...PATH_CHARS), minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('api', 'v2', 'lib', 'script.js', 'index.html', 'app.css') },
);

const goodPath: fc.Arbitrary<string> = fc.tuple(fc.array(segment, { minLength: 0, maxLength: 3 }), fc.boolean())
  .filter(([parts]) => parts.every((p) => p !== '.' && p !== '..'))
  .map(([parts, slash]) => `/${parts.join('/')}${slash && parts.length > 0 ? '/' : ''}`);

/** URL paths: mostly well-formed, some with metacharacters, some not starting with `/`. */
export const urlPath: fc.Arbitrary<string> = mostlyGood(goodPath, fc.oneof(
  fc.constantFrom('/', '/nginx-health', '//a', '/a/../b', '/./a', '/a/', ''),
  nastyString.map((s) => `/${s}`),
  nastyString,
  fc.integer({ min: 200, max: 300 }).map((n) => `/${'p'.repeat(n)}`),
  fc.integer({ min: 4000, max: 4200 }).map((n) => `/${'a'.repeat(n)}`),
));

export const mimeType: fc.Arbitrary<string> = mostlyGood(
  fc.constantFrom('text/css', 'text/plain', 'application/json', 'image/svg+xml',
    'text/html; charset=utf-8', 'application/x-thing#1', 'text/$x', 'a/b'),
  nastyString,
);

/** HTTP header names: tokens, some with characters a token may not hold. */
export const headerName: fc.Arbitrary<string> = mostlyGood(
  fc.string({ unit: fc.constantFrom(...'XaZ-_0!#%&\'*+.^`|~'.split('')), minLength: 1, maxLength: 12 }),
  nastyString,
);

/** Header values: printable ASCII with every metacharacter nginx has, and worse. */
export const headerValue: fc.Arbitrary<string> = mostlyGood(
  fc.string({ unit: fc.constantFrom(...' ;{}#\'"\\()aZ0=,/.-tnr'.split('')), maxLength: 16 }),
  fc.oneof(nastyString, fc.integer({ min: 4000, max: 4200 }).map((n) => 'v'.repeat(n))),
);

// ---------------------------------------------------------------------------------------------
// numbers, durations and sizes

const weirdNumbers = fc.constantFrom(0, -1, -0, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 1e21);

export const port: fc.Arbitrary<number> = mostlyGood(
  fc.oneof(fc.integer({ min: 1024, max: 65535 }), fc.constantFrom(8080, 8081, 9093, 9094, 3000)),
  fc.oneof(fc.integer({ min: 1, max: 1023 }), fc.constantFrom(0, -1, 65536, 70000, 1.5, NaN, Infinity)),
);

export function intAround(min: number, max: number): fc.Arbitrary<number> {
  return mostlyGood(
    fc.integer({ min, max }),
    fc.oneof(fc.constantFrom(min - 1, max + 1), weirdNumbers),
  );
}

const goodDuration: fc.Arbitrary<DurationSpec> = fc.oneof(
  fc.integer({ min: 1, max: 3600 }).map((amount) => ({ unit: 'seconds' as const, amount })),
  fc.integer({ min: 1, max: 1440 }).map((amount) => ({ unit: 'minutes' as const, amount })),
  fc.integer({ min: 1, max: 72 }).map((amount) => ({ unit: 'hours' as const, amount })),
  fc.integer({ min: 1, max: 365 }).map((amount) => ({ unit: 'days' as const, amount })),
  fc.integer({ min: 1, max: 600 }).map((n) => ({ unit: 'millis' as const, amount: n * 1000 })),
);

export const duration: fc.Arbitrary<DurationSpec> = mostlyGood(goodDuration, fc.oneof(
  { weight: 3, arbitrary: fc.nat(10_000_000).map((amount) => ({ unit: 'millis' as const, amount })) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: 10_000, noNaN: true }).map((amount) => ({ unit: 'seconds' as const, amount })) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1e6, 1e9, 1e12, 1e15, 1e21).map((amount) => ({ unit: 'days' as const, amount })) },
));

export const size: fc.Arbitrary<SizeSpec> = mostlyGood<SizeSpec>(
  fc.oneof(
    fc.integer({ min: 1, max: 4096 }).map((amount) => ({ unit: 'kibibytes' as const, amount })),
    fc.integer({ min: 1, max: 4096 }).map((amount) => ({ unit: 'mebibytes' as const, amount })),
    fc.integer({ min: 1, max: 4 }).map((amount) => ({ unit: 'gibibytes' as const, amount })),
  ),
  fc.oneof(
    fc.nat(100_000_000).map((amount) => ({ unit: 'kibibytes' as const, amount })),
    fc.double({ min: 0, max: 4096, noNaN: true }).map((amount) => ({ unit: 'kibibytes' as const, amount })),
    fc.nat(10_000_000).map((amount) => ({ unit: 'mebibytes' as const, amount })),
    fc.constantFrom(0, 1, 10, 1e6, 1e12).map((amount) => ({ unit: 'tebibytes' as const, amount })),
  ),
);

/** Memory for a container: whole MiB mostly, as quantities are usually written. */
const memory: fc.Arbitrary<SizeSpec> = mostlyGood(
  fc.integer({ min: 16, max: 1024 }).map((amount) => ({ unit: 'mebibytes' as const, amount })),
  size,
);

// ---------------------------------------------------------------------------------------------
// composite props

export const routeSpec: fc.Arbitrary<RouteSpec> = fc.record({
  kind: fc.constantFrom<RouteKind>('cached', 'microCached', 'uncached', 'followingAppHeaders', 'webSocket'),
  path: urlPath,
  exact: fc.boolean(),
  browserCacheFor: fc.option(duration, { nil: undefined, freq: 3 }),
  validFor: fc.option(duration, { nil: undefined, freq: 2 }),
  serveStaleOnError: fc.option(fc.boolean(), { nil: undefined }),
  idleTimeout: fc.option(duration, { nil: undefined, freq: 2 }),
}, { requiredKeys: ['kind', 'path'] });

const base64Text: fc.Arbitrary<string> = mostlyGood(
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc.oneof(nastyString, fc.constant('')),
);

const fileContent: fc.Arbitrary<string> = mostlyGood(
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 64 }).filter((s) => !/\p{Cs}/u.test(s)) },
    // big enough to be gzipped beside the original
    { weight: 1, arbitrary: fc.integer({ min: 1024, max: 3000 }).map((n) => 'body { color: red; }\n'.repeat(Math.ceil(n / 21))) },
  ),
  fc.oneof(nastyString, fc.constant('')),
);

export const overrideSpec: fc.Arbitrary<OverrideSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<OverrideSpec['via']>('string', 'file') },
  { weight: 3, arbitrary: fc.constant<OverrideSpec['via']>('base64') },
  { weight: 1, arbitrary: fc.constant<OverrideSpec['via']>('missing-file') },
).chain((via) => fc.record({
  via: fc.constant(via),
  urlPath,
  content: via === 'base64' ? base64Text : fileContent,
  contentType: fc.option(mimeType, { nil: undefined, freq: 3 }),
  browserCacheFor: fc.option(duration, { nil: undefined, freq: 3 }),
}, { requiredKeys: ['via', 'urlPath', 'content'] }));

export const headerSpecs: fc.Arbitrary<HeaderSpec[] | 'recommended'> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<'recommended'>('recommended') },
  { weight: 4, arbitrary: fc.array(fc.record({ name: headerName, value: headerValue }), { maxLength: 3 }) },
);

export const resourcesSpec: fc.Arbitrary<ResourcesSpec> = fc.record({
  cpuMillis: fc.option(mostlyGood(fc.integer({ min: 1, max: 4000 }), fc.constantFrom(0, 0.5)), { nil: undefined }),
  memoryRequest: fc.option(memory, { nil: undefined }),
  // above the request mostly, as a user writes it
  extraLimit: mostlyGood(fc.option(fc.integer({ min: 0, max: 1024 }), { nil: undefined }), fc.constant(-1)),
}).map(({ cpuMillis, memoryRequest, extraLimit }) => ({
  cpuMillis,
  memoryRequest,
  memoryLimit: extraLimit === undefined ? undefined
    : extraLimit < 0 || !memoryRequest ? { unit: 'mebibytes' as const, amount: 8 }
      : { unit: 'kibibytes' as const, amount: kibibytes(memoryRequest) + extraLimit * 1024 },
}));

function kibibytes(spec: SizeSpec): number {
  return spec.amount * { kibibytes: 1, mebibytes: 1024, gibibytes: 1024 ** 2, tebibytes: 1024 ** 3 }[spec.unit];
}

export const targetSpec: fc.Arbitrary<TargetSpec> = fc.record({
  kind: fc.constantFrom<TargetKind>(
    'Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod', 'HardenedDeployment',
    'RawRestricted', 'RawLoose'),
  appPort: fc.oneof(fc.constantFrom(9093, 3000, 8080), fc.integer({ min: 1, max: 65535 })),
  expose: fc.constantFrom<TargetSpec['expose']>('none', 'service', 'service+ingress'),
});

/** `arbitrary` in `percent` of the cases, missing in the others. */
function opt<T>(arbitrary: fc.Arbitrary<T>, percent = 50): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { weight: percent, arbitrary },
    { weight: 100 - percent, arbitrary: fc.constant(undefined) },
  );
}

/**
 * Any sidecar case: every prop may be missing, well-formed or hostile. About one case in
 * several builds a valid sidecar; the rest must fail with a message naming the prop.
 */
export const sidecarCase: fc.Arbitrary<SidecarCase> = fc.record({
  target: targetSpec,
  upstreamPort: mostlyGood<number | 'app'>(fc.constant<'app'>('app'), port),
  listenPort: opt(port),
  compressorPort: opt(port, 30),
  routes: opt(fc.array(routeSpec, { maxLength: 5 }), 70),
  overrides: opt(fc.array(overrideSpec, { maxLength: 3 }), 50),
  healthPath: opt(urlPath, 25),
  timeouts: opt(fc.record({ connect: duration, read: duration, send: duration }, { requiredKeys: [] }), 40),
  cache: opt(fc.record({ maxSize: size, inactive: duration }, { requiredKeys: [] }), 40),
  compression: opt(fc.record({
    level: intAround(1, 9),
    minLength: size,
    types: mostlyGood(fc.array(mimeType, { minLength: 1, maxLength: 3 }), fc.constant([])),
  }, { requiredKeys: [] }), 40),
  clientMaxBodySize: opt(size, 30),
  workerProcesses: opt(intAround(1, 64), 25),
  workerConnections: opt(intAround(16, 65536), 25),
  listenOnIpv6: opt(fc.boolean(), 20),
  responseHeaders: opt(headerSpecs, 50),
  image: opt(mostlyGood(fc.constantFrom('nginx:1.28.0', 'registry.example.com/nginx@sha256:abc'), nastyString), 20),
  containerName: opt(mostlyGood(fc.constantFrom('proxy', 'nginx-sidecar', 'a'.repeat(63)), fc.oneof(fc.constant('a'.repeat(64)), nastyString)), 20),
  resources: opt(resourcesSpec, 20),
}, { requiredKeys: ['target', 'upstreamPort'] });

/**
 * Sidecar cases that a careful user writes: every value within the documented ranges. None of
 * them may be refused, which keeps validation from rejecting what it should accept.
 */
export const wellFormedSidecarCase: fc.Arbitrary<SidecarCase> = fc.record({
  target: targetSpec,
  upstreamPort: fc.constant<'app'>('app'),
  listenPort: opt(fc.integer({ min: 1024, max: 65534 })),
  routes: opt(fc.uniqueArray(fc.record({
    kind: fc.constantFrom<RouteKind>('cached', 'microCached', 'uncached', 'followingAppHeaders', 'webSocket'),
    path: fc.array(fc.string({ unit: fc.constantFrom(...'abcz09-_~'.split('')), minLength: 1, maxLength: 6 }), { maxLength: 3 })
      .map((parts) => `/${parts.map((p) => `${p}/`).join('')}`),
    exact: fc.constant(false),
    validFor: fc.option(fc.integer({ min: 1, max: 60 }).map((amount) => ({ unit: 'seconds' as const, amount })), { nil: undefined }),
    browserCacheFor: fc.option(fc.integer({ min: 1, max: 30 }).map((amount) => ({ unit: 'days' as const, amount })), { nil: undefined }),
    idleTimeout: fc.option(fc.integer({ min: 1, max: 86_400 }).map((amount) => ({ unit: 'seconds' as const, amount })), { nil: undefined }),
  }), { maxLength: 4, selector: (r) => r.path }), 60),
  overrides: opt(fc.uniqueArray(fc.record({
    via: fc.constantFrom<OverrideSpec['via']>('string', 'file'),
    urlPath: fc.string({ unit: fc.constantFrom(...'abcz09-_'.split('')), minLength: 1, maxLength: 8 })
      .map((name) => `/static/${name}.css`),
    content: fc.string({ minLength: 1, maxLength: 200 }).filter((s) => !/\p{Cs}/u.test(s)),
  }), { maxLength: 3, selector: (o) => o.urlPath }), 60),
  timeouts: opt(fc.record({
    connect: fc.integer({ min: 1, max: 60 }).map((amount) => ({ unit: 'seconds' as const, amount })),
    read: fc.integer({ min: 1, max: 60 }).map((amount) => ({ unit: 'minutes' as const, amount })),
  }, { requiredKeys: [] }), 40),
  cache: opt(fc.record({
    maxSize: fc.integer({ min: 1, max: 4096 }).map((amount) => ({ unit: 'mebibytes' as const, amount })),
    inactive: fc.integer({ min: 1, max: 30 }).map((amount) => ({ unit: 'days' as const, amount })),
  }, { requiredKeys: [] }), 40),
  compression: opt(fc.record({
    level: fc.integer({ min: 1, max: 9 }),
    minLength: fc.integer({ min: 0, max: 64 }).map((amount) => ({ unit: 'kibibytes' as const, amount })),
  }, { requiredKeys: [] }), 40),
  clientMaxBodySize: opt(fc.integer({ min: 1, max: 1024 }).map((amount) => ({ unit: 'mebibytes' as const, amount })), 40),
  workerProcesses: opt(fc.integer({ min: 1, max: 8 }), 40),
  workerConnections: opt(fc.integer({ min: 64, max: 8192 }), 40),
  listenOnIpv6: opt(fc.boolean(), 20),
  responseHeaders: opt(fc.constant<'recommended'>('recommended'), 40),
}, { requiredKeys: ['target', 'upstreamPort'] }).filter((c) => c.target.appPort !== (c.listenPort ?? 8080)
  && c.target.appPort !== (c.listenPort ?? 8080) + 1 && (c.listenPort ?? 8080) < 65535);
