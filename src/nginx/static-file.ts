import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'cdk8s';
import { assertDuration, assertUrlPath, LIFETIME } from './_validate';

/** A MIME type, optionally with a charset: `text/css`, `text/html; charset=utf-8`. */
const MIME_TOKEN = '[a-z0-9][a-z0-9!#&^_.+-]*';
const CONTENT_TYPE = new RegExp(`^${MIME_TOKEN}/${MIME_TOKEN}(; ?charset=[A-Za-z0-9_-]+)?$`, 'i');

/**
 * Options of a file served by nginx itself.
 */
export interface StaticFileOptions {
  /**
   * MIME type sent with the file.
   *
   * @default - from the file name's extension; `application/octet-stream` when unknown
   */
  readonly contentType?: string;

  /**
   * How long browsers may keep the file (`Cache-Control: max-age` and `Expires`), in whole
   * seconds up to a year.
   *
   * A browser keeps its copy across pod restarts and upgrades, so a long lifetime suits only a
   * file whose URL changes when its content does.
   *
   * @default - no browser caching headers are sent
   */
  readonly browserCacheFor?: Duration;
}

/**
 * A file that nginx serves at an exact URL path instead of proxying the request to the app.
 *
 * The content goes into a ConfigMap, so all files of one sidecar together must stay under the
 * 1 MiB that Kubernetes allows for a ConfigMap.
 */
export class StaticFile {
  /**
   * A text file, stored as UTF-8.
   */
  public static fromString(
    urlPath: string, content: string, options: StaticFileOptions = {},
  ): StaticFile {
    return new StaticFile(urlPath, Buffer.from(content, 'utf-8'), options);
  }

  /**
   * A binary file given as base64 text (for example an image).
   */
  public static fromBase64(
    urlPath: string, base64: string, options: StaticFileOptions = {},
  ): StaticFile {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
      throw new Error(`'base64' of static file '${urlPath}' must be standard base64 text, `
        + `got ${JSON.stringify(base64.slice(0, 40))}`);
    }
    return new StaticFile(urlPath, Buffer.from(base64, 'base64'), options);
  }

  /**
   * A local file, read when this is called (at synth time), relative to the working directory.
   */
  public static fromFile(
    urlPath: string, localPath: string, options: StaticFileOptions = {},
  ): StaticFile {
    let content: Buffer;
    try {
      content = fs.readFileSync(path.resolve(localPath));
    } catch (e) {
      throw new Error(`'localPath' of static file '${urlPath}' cannot be read: `
        + `${JSON.stringify(localPath)} (${(e as Error).message})`);
    }
    return new StaticFile(urlPath, content, options);
  }

  /** The exact URL path nginx serves the file at. */
  public readonly urlPath: string;

  /** The MIME type sent with the file. */
  public readonly contentType: string;

  /** How long browsers may keep the file; undefined sends no caching headers. */
  public readonly browserCacheFor?: Duration;

  private readonly content: Buffer;

  private constructor(urlPath: string, content: Buffer, options: StaticFileOptions) {
    assertUrlPath('urlPath', urlPath, { allowTrailingSlash: false });
    const contentType = options.contentType ?? contentTypeOf(urlPath);
    if (contentType.length > 200 || !CONTENT_TYPE.test(contentType)) {
      throw new Error(`'contentType' of static file '${urlPath}' must be a MIME type such as `
        + `text/css, got ${JSON.stringify(contentType)}`);
    }
    if (options.browserCacheFor) {
      assertDuration('browserCacheFor', options.browserCacheFor, LIFETIME);
    }
    this.urlPath = urlPath;
    this.contentType = contentType;
    this.browserCacheFor = options.browserCacheFor;
    this.content = content;
  }

  /** The file's bytes, base64-encoded. */
  public get contentBase64(): string {
    return this.content.toString('base64');
  }

  /** The file's size in bytes. */
  public get sizeBytes(): number {
    return this.content.length;
  }

  /**
   * A copy of this file under a path prefix, for apps served below a route prefix.
   */
  public withPrefix(prefix: string): StaticFile {
    if (prefix === '' || prefix === '/') {
      return this;
    }
    return new StaticFile(prefix.replace(/\/$/, '') + this.urlPath, this.content, {
      contentType: this.contentType,
      browserCacheFor: this.browserCacheFor,
    });
  }
}

const TYPES_BY_EXTENSION: { [extension: string]: string } = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'application/javascript; charset=utf-8',
  mjs: 'application/javascript; charset=utf-8',
  json: 'application/json',
  map: 'application/json',
  txt: 'text/plain; charset=utf-8',
  svg: 'image/svg+xml',
  xml: 'application/xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  ico: 'image/x-icon',
  webp: 'image/webp',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  wasm: 'application/wasm',
};

function contentTypeOf(urlPath: string): string {
  const extension = path.posix.extname(urlPath).slice(1).toLowerCase();
  return TYPES_BY_EXTENSION[extension] ?? 'application/octet-stream';
}
