import { Duration, Size } from 'cdk8s';

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
    throw new Error(`'${prop}' must be an absolute URL path ${problem}, got ${JSON.stringify(path)}`);
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
  if (!rules.allowTrailingSlash && path.endsWith('/')) {
    return 'naming a file (not ending with /)';
  }
  return undefined;
}

export function assertPort(prop: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`'${prop}' must be an integer between 1 and 65535, got ${port}`);
  }
}

export function assertIntegerInRange(prop: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`'${prop}' must be an integer between ${min} and ${max}, got ${value}`);
  }
}

export function assertPositiveDuration(prop: string, duration: Duration, minMillis = 1): void {
  const ms = duration.toMilliseconds();
  if (!Number.isFinite(ms) || ms < minMillis || !Number.isInteger(ms)) {
    throw new Error(`'${prop}' must be a whole number of milliseconds of at least ${minMillis}, got ${ms} ms`);
  }
}

export function assertSizeAtLeast(prop: string, size: Size, minKibibytes: number): void {
  const kib = size.toKibibytes();
  if (!Number.isFinite(kib) || !Number.isInteger(kib) || kib < minKibibytes) {
    throw new Error(`'${prop}' must be a whole number of KiB of at least ${minKibibytes}, got ${kib} KiB`);
  }
}

/** nginx time: the largest whole unit, so the rendered text reads as the user wrote it. */
export function nginxTime(duration: Duration): string {
  const ms = duration.toMilliseconds();
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
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
