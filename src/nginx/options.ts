import { Duration, Size } from 'cdk8s';

/**
 * Timeouts of nginx towards the app.
 */
export interface ProxyTimeouts {
  /**
   * Time to open a connection to the app. The app is in the same pod, so this is short.
   *
   * @default Duration.seconds(2)
   */
  readonly connect?: Duration;

  /**
   * Time between two reads of the app's answer.
   *
   * @default Duration.seconds(60)
   */
  readonly read?: Duration;

  /**
   * Time between two writes of the request to the app.
   *
   * @default Duration.seconds(30)
   */
  readonly send?: Duration;
}

/**
 * The in-pod proxy cache.
 */
export interface ProxyCacheOptions {
  /**
   * Largest size of the cache on disk. The cache volume's `sizeLimit` is this plus room for
   * temporary files, so the cache cannot fill the node's ephemeral storage.
   *
   * @default Size.mebibytes(256)
   */
  readonly maxSize?: Size;

  /**
   * An entry not read for this long is removed, fresh or not. Whole seconds, up to a year.
   *
   * @default Duration.days(1)
   */
  readonly inactive?: Duration;

  /**
   * `sizeLimit` of the emptyDir that holds the cache, temporary files and the pid file. It must
   * leave 64 MiB beside `maxSize`; a cache larger than its volume is refused.
   *
   * @default - maxSize plus 64 MiB
   */
  readonly volumeSizeLimit?: Size;
}

/**
 * gzip compression of text answers.
 */
export interface CompressionOptions {
  /**
   * gzip level from 1 (fast) to 9 (small). Cached routes are compressed once per entry, so a
   * higher level costs little there.
   *
   * @default 6
   */
  readonly level?: number;

  /**
   * Answers shorter than this are sent uncompressed.
   *
   * @default Size.kibibytes(1)
   */
  readonly minLength?: Size;

  /**
   * MIME types compressed in addition to `text/html`. Images and fonts that are already
   * compressed gain nothing and only cost CPU.
   *
   * @default - CSS, JavaScript, JSON, plain text, SVG and XML
   */
  readonly types?: string[];
}

/**
 * A header added to every answer nginx sends, errors included.
 */
export interface ResponseHeader {
  /** Header name, for example `X-Content-Type-Options`. */
  readonly name: string;

  /**
   * Header value, sent as written: printable ASCII without `$`, which nginx would expand as a
   * variable and has no escape for.
   */
  readonly value: string;
}

/** Where the sidecar's files live inside the nginx container. */
export class SidecarPaths {
  /** Directory of the nginx.conf ConfigMap volume. */
  public static readonly CONFIG_DIR = '/etc/nginx/sidecar';
  /** The nginx.conf file. */
  public static readonly CONFIG_FILE = '/etc/nginx/sidecar/nginx.conf';
  /** Directory of the overrides ConfigMap volume. */
  public static readonly OVERRIDES_DIR = '/usr/share/nginx/overrides';
  /** Writable emptyDir: cache, temporary files and the pid file. */
  public static readonly STATE_DIR = '/var/cache/nginx';

  private constructor() {}
}
