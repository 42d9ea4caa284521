import { DurationSpec, SidecarCase, SizeSpec } from './arbitraries';
import { kibibytesOf, millisOf } from './build';

/**
 * Bugs the fuzzing found and reported, each pinned by a failing test in regressions.test.ts.
 * Cases that hit one are skipped so the fuzzing keeps looking for new ones; set
 * FUZZ_INCLUDE_KNOWN=1 to run them anyway. Remove an entry once its regression test passes.
 */
export interface KnownBug {
  /** The regression test's name. */
  readonly test: string;
  readonly matches: (c: SidecarCase) => boolean;
}

const notWholeMebibytes = (s: SizeSpec | undefined) => s !== undefined && kibibytesOf(s) % 1024 !== 0;

/** Every duration a sidecar case passes anywhere. */
export function durationsOf(c: SidecarCase): DurationSpec[] {
  return [
    c.timeouts?.connect, c.timeouts?.read, c.timeouts?.send, c.cache?.inactive,
    ...(c.routes ?? []).flatMap((r) => [r.validFor, r.browserCacheFor]),
    ...(c.overrides ?? []).map((o) => o.browserCacheFor),
  ].filter((d): d is DurationSpec => d !== undefined);
}

export const KNOWN_SIDECAR_BUGS: KnownBug[] = [
  {
    test: 'resources memory that is not a whole number of MiB is refused naming \'resources\'',
    matches: (c) => notWholeMebibytes(c.resources?.memoryRequest) || notWholeMebibytes(c.resources?.memoryLimit),
  },
  {
    test: 'a duration that is not a whole number of milliseconds is refused naming its prop',
    matches: (c) => durationsOf(c).some((d) => !Number.isInteger(millisOf(d))),
  },
  {
    test: 'an empty override file is mounted (its ConfigMap key exists)',
    matches: (c) => (c.overrides ?? []).some((o) => (o.via === 'base64'
      ? /^[A-Za-z0-9+/]*={0,2}$/.test(o.content) && Buffer.from(o.content, 'base64').length === 0
      : o.content === '')),
  },
  {
    test: 'a cache or browser lifetime not in whole seconds renders a time nginx accepts',
    matches: (c) => [
      c.cache?.inactive,
      ...(c.routes ?? []).flatMap((r) => [r.validFor, r.browserCacheFor]),
      ...(c.overrides ?? []).map((o) => o.browserCacheFor),
    ].some((d) => d !== undefined && millisOf(d) % 1000 !== 0),
  },
  {
    test: 'a port below 1024, which non-root nginx cannot bind, is refused naming its prop',
    matches: (c) => {
      const listen = c.listenPort ?? 8080;
      return [listen, c.compressorPort ?? listen + 1].some((p) => Number.isInteger(p) && p >= 1 && p < 1024);
    },
  },
  {
    test: 'a memory request above the memory limit is refused naming \'resources\'',
    matches: (c) => !!c.resources?.memoryRequest && !!c.resources?.memoryLimit
      && kibibytesOf(c.resources.memoryRequest) > kibibytesOf(c.resources.memoryLimit),
  },
  {
    test: 'an empty compression.types list renders a gzip_types nginx accepts',
    matches: (c) => c.compression?.types?.length === 0,
  },
  {
    test: 'a value too long for one nginx word is refused naming the prop, not the directive',
    matches: (c) => [
      ...(c.responseHeaders === 'recommended' ? [] : (c.responseHeaders ?? []).flatMap((h) => [h.name, h.value])),
      ...(c.routes ?? []).map((r) => r.path),
      ...(c.overrides ?? []).flatMap((o) => [o.urlPath, o.contentType ?? '']),
      ...(c.compression?.types ?? []),
      c.healthPath ?? '',
    ].some((text) => text.length >= 4000),
  },
  {
    test: 'a duration beyond what nginx can hold is refused naming its prop',
    // nginx -t took 1e9 days and refused 1e12 days
    matches: (c) => durationsOf(c).some((d) => millisOf(d) > 86_400_000 * 1e10),
  },
  {
    test: 'an override path segment longer than a file name is refused naming \'urlPath\'',
    // 255 bytes is the file name limit; the gzipped copy adds '.gz'
    matches: (c) => (c.overrides ?? []).some((o) => o.urlPath.split('/').some((part) => Buffer.byteLength(part) > 252)),
  },
  {
    test: 'an empty image, or one with whitespace or controls, is refused naming \'image\'',
    matches: (c) => c.image !== undefined && (c.image === '' || /[\s\p{Cc}]/u.test(c.image)),
  },
  {
    test: 'overrides at /a and /a/b (not both files) are refused naming \'overrides\'',
    matches: (c) => (c.overrides ?? []).some((a) => (c.overrides ?? []).some((b) =>
      b.urlPath.startsWith(`${a.urlPath}/`) || b.urlPath === `${a.urlPath}.gz`)),
  },
  {
    test: 'a size beyond what nginx can hold is refused naming its prop',
    matches: (c) => [c.cache?.maxSize, c.compression?.minLength, c.clientMaxBodySize]
      .some((size) => size !== undefined && kibibytesOf(size) * 1024 > 2 ** 62),
  },
];

export function knownBugOf(c: SidecarCase, bugs: KnownBug[] = KNOWN_SIDECAR_BUGS): KnownBug | undefined {
  return process.env.FUZZ_INCLUDE_KNOWN ? undefined : bugs.find((bug) => bug.matches(c));
}
