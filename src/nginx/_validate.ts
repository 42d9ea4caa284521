import { Duration, Size, SizeRoundingBehavior } from 'cdk8s';

/**
 * URL path characters accepted in routes and overrides: RFC 3986 unreserved characters and a few
 * sub-delimiters. Quotes, `;`, braces, `#`, `$`, `?`, `%` escapes and whitespace are
 * refused, so a path reads the same in nginx, Kubernetes and a browser.
 */
const URL_PATH = /^\/[A-Za-z0-9._~@+!*,=:\-/]*$/;

export interface UrlPathRules {
  readonly allowTrailingSlash: boolean;
}

export function assertUrlPath(prop: string, path: string, rules: UrlPathRules): void {
  const problem = urlPathProblem(path, rules);
  if (problem) {
    throw new Error(
      `'${prop}' must be an absolute URL path ${problem}, got ${JSON.stringify(path)}`,
    );
  }
}

function urlPathProblem(path: string, rules: UrlPathRules): string | undefined {
  if (!URL_PATH.test(path)) {
    return 'starting with / and made of letters, digits and ._~@+!*,=:-/';
  }
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '.' || s === '..')) {
    return 'without . or .. segments';
  }
  if (path.includes('//')) {
    return 'without empty segments (//)';
  }
  if (path.length > 1024) {
    return `of at most 1024 characters (${path.length} given)`;
  }
  // a file name holds 255 bytes, less the .gz of a precompressed copy
  if (segments.some((s) => s.length > 250)) {
    return 'whose segments have at most 250 characters';
  }
  if (!rules.allowTrailingSlash && path.endsWith('/')) {
    return 'naming a file (not ending with /)';
  }
  return undefined;
}

export function assertPort(prop: string, port: number, min = 1): void {
  if (!Number.isInteger(port) || port < min || port > 65535) {
    const why = min > 1 ? ' (nginx runs without root, so it cannot bind lower ports)' : '';
    throw new Error(`'${prop}' must be an integer between ${min} and 65535${why}, got ${port}`);
  }
}

export function assertIntegerInRange(prop: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`'${prop}' must be an integer between ${min} and ${max}, got ${value}`);
  }
}

/** Bounds of a duration prop. */
export interface DurationRules {
  readonly minMillis: number;
  readonly maxMillis: number;
  /** nginx reads cache and browser lifetimes in whole seconds. */
  readonly wholeSeconds?: boolean;
}

/** A day, the longest timeout nginx is given; a year, the longest lifetime. */
export const ONE_DAY_MS = 86_400_000;
export const ONE_YEAR_MS = 365 * ONE_DAY_MS;

/** Cache and browser lifetimes: whole seconds, from one second to a year. */
export const LIFETIME: DurationRules = {
  minMillis: 1000, maxMillis: ONE_YEAR_MS, wholeSeconds: true,
};

/** A micro-cache's lifetime: whole seconds, up to a minute. */
export const MICRO_CACHE_LIFETIME: DurationRules = {
  minMillis: 1000, maxMillis: 60_000, wholeSeconds: true,
};

export function assertDuration(prop: string, duration: Duration, rules: DurationRules): void {
  const ms = duration.toMilliseconds({ integral: false });
  const unit = rules.wholeSeconds ? 1000 : 1;
  if (!Number.isFinite(ms) || ms % unit !== 0 || ms < rules.minMillis || ms > rules.maxMillis) {
    throw new Error(
      `'${prop}' must be a whole number of ${rules.wholeSeconds ? 'seconds' : 'milliseconds'} from `
      + `${rules.minMillis} ms to ${rules.maxMillis} ms, got ${ms} ms`,
    );
  }
}

/** Checks a size is a whole number of `unitKibibytes` within bounds; returns it in KiB. */
export function assertSize(
  prop: string, size: Size, minKibibytes: number, maxKibibytes: number, unitKibibytes = 1,
): number {
  const kib = size.toKibibytes({ rounding: SizeRoundingBehavior.NONE });
  const unit = unitKibibytes === 1024 ? 'MiB' : 'KiB';
  const inRange = kib >= minKibibytes && kib <= maxKibibytes;
  if (!Number.isFinite(kib) || kib % unitKibibytes !== 0 || !inRange) {
    throw new Error(
      `'${prop}' must be a whole number of ${unit} from ${minKibibytes / unitKibibytes} to `
      + `${maxKibibytes / unitKibibytes} ${unit}, got ${kib} KiB`,
    );
  }
  return kib;
}

/** Longest text accepted where a value becomes one nginx word (nginx refuses past 4 KiB). */
export const MAX_VALUE_LENGTH = 2048;

/** nginx time: the largest whole unit, so the rendered text reads as the user wrote it. */
export function nginxTime(duration: Duration): string {
  const ms = duration.toMilliseconds();
  const units: Array<[string, number]> = [
    ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000],
  ];
  for (const [suffix, factor] of units) {
    if (ms % factor === 0) {
      return `${ms / factor}${suffix}`;
    }
  }
  return `${ms}ms`;
}

/** nginx size: mebibytes when whole, else kibibytes. */
export function nginxSize(size: Size): string {
  const kib = size.toKibibytes();
  return kib % 1024 === 0 ? `${kib / 1024}m` : `${kib}k`;
}
