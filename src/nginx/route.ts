import { Duration } from 'cdk8s';
import {
  assertDuration, assertUrlPath, LIFETIME, MICRO_CACHE_LIFETIME, ONE_DAY_MS,
} from './_validate';

/**
 * How nginx caches the answers of one route inside the pod.
 */
export enum CacheBehavior {
  /**
   * Cached for a fixed time whatever the app's own headers say, and served stale while the app
   * is down. For content that cannot change while the pod lives (UI bundles, images).
   */
  STATIC = 'STATIC',

  /**
   * Cached for a second or so, so a burst of identical GETs reaches the app once. nginx counts
   * validity in whole seconds, so an answer is at most `validFor` plus one second plus one
   * upstream round trip old.
   */
  MICRO = 'MICRO',

  /**
   * Cached only when the app's own `Cache-Control` or `Expires` headers allow it, and never for
   * requests that carry `Authorization`.
   */
  APP_HEADERS = 'APP_HEADERS',

  /**
   * Never cached.
   */
  NONE = 'NONE',
}

/** How long a WebSocket may stay silent by default: long enough for apps that ping rarely. */
const DEFAULT_WEB_SOCKET_IDLE_TIMEOUT = Duration.hours(1);

/**
 * Options shared by every route.
 */
export interface RouteOptions {
  /**
   * Match only this exact path (`location = path`) instead of every path that starts with it.
   *
   * @default false
   */
  readonly exact?: boolean;

  /**
   * How long browsers may keep the answer, sent as `Cache-Control: max-age` and `Expires`, in
   * whole seconds up to a year.
   *
   * When set, the app's own `Cache-Control`, `Expires` and `Pragma` headers are replaced on this
   * route. The in-pod cache dies with the pod, but a browser keeps its copy across upgrades, so
   * long lifetimes suit only content whose URL changes when it does.
   *
   * @default - the app's own headers reach the browser unchanged
   */
  readonly browserCacheFor?: Duration;
}

/**
 * Options of a route whose answers nginx keeps for a fixed time.
 */
export interface StaticRouteOptions extends RouteOptions {
  /**
   * How long a cached answer is fresh in the pod's cache, in whole seconds up to a year.
   *
   * @default Duration.hours(1)
   */
  readonly validFor?: Duration;
}

/**
 * Options of a micro-cached route.
 */
export interface MicroCachedRouteOptions extends RouteOptions {
  /**
   * How long an answer is reused, in whole seconds from 1 to 60. nginx counts it from the whole
   * second the answer was stored in, so the oldest an answer can be is this plus one second plus
   * one upstream round trip.
   *
   * @default Duration.seconds(1)
   */
  readonly validFor?: Duration;

  /**
   * Serve the last answer, marked `STALE`, while the app fails or times out.
   *
   * Off by default: a stale API answer during an outage hides the outage from its users.
   *
   * @default false
   */
  readonly serveStaleOnError?: boolean;
}

/**
 * Options of a route whose requests may upgrade to WebSocket.
 */
export interface WebSocketRouteOptions {
  /**
   * Match only this exact path (`location = path`) instead of every path that starts with it.
   *
   * @default false
   */
  readonly exact?: boolean;

  /**
   * How long an upgraded connection may carry nothing in either direction before nginx closes
   * it, in whole seconds from 1 second to 1 day. Apps that ping their clients keep it open.
   *
   * @default Duration.hours(1)
   */
  readonly idleTimeout?: Duration;
}

/**
 * A path of the app and how nginx treats the answers it proxies for it.
 */
export class Route {
  /**
   * Caches answers for `validFor`, ignoring the app's no-cache headers, and serves them stale
   * while the app is down. Only 200 answers are stored.
   *
   * The cache key is the URL alone, not the user: use it only for answers that are the same
   * for everyone who may see them.
   */
  public static cached(path: string, options: StaticRouteOptions = {}): Route {
    const validFor = options.validFor ?? Duration.hours(1);
    return new Route(path, CacheBehavior.STATIC, options, validFor, true);
  }

  /**
   * Reuses each answer for about a second: a burst of identical GETs reaches the app once.
   *
   * The cache key is the URL alone, not the user: use it only for answers that are the same
   * for everyone who may see them, never for per-user data behind cookies or tokens.
   */
  public static microCached(path: string, options: MicroCachedRouteOptions = {}): Route {
    const validFor = options.validFor ?? Duration.seconds(1);
    // longer than a minute is no longer a micro-cache: Route.cached says what it is
    assertDuration('validFor', validFor, MICRO_CACHE_LIFETIME);
    const serveStaleOnError = options.serveStaleOnError ?? false;
    return new Route(path, CacheBehavior.MICRO, options, validFor, serveStaleOnError);
  }

  /**
   * Caches only what the app's own headers allow (`private` and `no-store` answers are never
   * stored), and never answers to requests that carry `Authorization`.
   */
  public static followingAppHeaders(path: string, options: RouteOptions = {}): Route {
    return new Route(path, CacheBehavior.APP_HEADERS, options, undefined, false);
  }

  /**
   * Never caches.
   */
  public static uncached(path: string, options: RouteOptions = {}): Route {
    return new Route(path, CacheBehavior.NONE, options, undefined, false);
  }

  /**
   * Never caches, and passes WebSocket upgrades through to the app. Plain requests on the path
   * are proxied as on any uncached route. Other routes drop the `Upgrade` header, as a proxy
   * must unless told otherwise.
   */
  public static webSocket(path: string, options: WebSocketRouteOptions = {}): Route {
    const idleTimeout = options.idleTimeout ?? DEFAULT_WEB_SOCKET_IDLE_TIMEOUT;
    assertDuration('idleTimeout', idleTimeout, { ...LIFETIME, maxMillis: ONE_DAY_MS });
    const routeOptions = { exact: options.exact };
    return new Route(path, CacheBehavior.NONE, routeOptions, undefined, false, idleTimeout);
  }

  /** The URL path, or path prefix, this route matches. */
  public readonly path: string;

  /** Whether only the exact path matches. */
  public readonly exact: boolean;

  /** How answers are cached in the pod. */
  public readonly behavior: CacheBehavior;

  /** How long a cached answer is fresh; undefined when the app's headers decide. */
  public readonly validFor?: Duration;

  /** How long browsers may keep the answer; undefined leaves the app's headers alone. */
  public readonly browserCacheFor?: Duration;

  /** Whether a stored answer is served while the app fails. */
  public readonly serveStaleOnError: boolean;

  /**
   * How long an upgraded WebSocket connection may stay silent; undefined when the route does not
   * pass upgrades through.
   */
  public readonly webSocketIdleTimeout?: Duration;

  private constructor(
    path: string,
    behavior: CacheBehavior,
    options: RouteOptions,
    validFor: Duration | undefined,
    serveStaleOnError: boolean,
    webSocketIdleTimeout?: Duration,
  ) {
    assertUrlPath('path', path, { allowTrailingSlash: true });
    // nginx reads cache and browser lifetimes in whole seconds
    if (validFor) {
      assertDuration('validFor', validFor, LIFETIME);
    }
    if (options.browserCacheFor) {
      assertDuration('browserCacheFor', options.browserCacheFor, LIFETIME);
    }
    this.path = path;
    this.exact = options.exact ?? false;
    this.behavior = behavior;
    this.validFor = validFor;
    this.browserCacheFor = options.browserCacheFor;
    this.serveStaleOnError = serveStaleOnError;
    this.webSocketIdleTimeout = webSocketIdleTimeout;
  }

  /**
   * A copy of this route under a path prefix, for apps served below a route prefix.
   */
  public withPrefix(prefix: string): Route {
    if (prefix === '' || prefix === '/') {
      return this;
    }
    const joined = prefix.replace(/\/$/, '') + this.path;
    return new Route(
      joined,
      this.behavior,
      { exact: this.exact, browserCacheFor: this.browserCacheFor },
      this.validFor,
      this.serveStaleOnError,
      this.webSocketIdleTimeout,
    );
  }
}
