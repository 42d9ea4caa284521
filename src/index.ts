export { CacheBehavior, Route, RouteOptions, StaticRouteOptions, MicroCachedRouteOptions } from './nginx/route';
export { StaticFile, StaticFileOptions } from './nginx/static-file';
export {
  CompressionOptions,
  ProxyCacheOptions,
  ProxyTimeouts,
  ResponseHeader,
  SidecarPaths,
} from './nginx/nginx-config';
export { SidecarTarget } from './sidecar/sidecar-target';
export {
  NginxSidecar,
  NginxSidecarOptions,
  NginxSidecarProps,
  ExposeViaOptions,
  SecurityHeaders,
} from './sidecar/nginx-sidecar';
export { AlertmanagerConfig } from './alertmanager/alertmanager-config';
export { AlertmanagerStorage, PersistentStorageOptions } from './alertmanager/alertmanager-storage';
export {
  AlertmanagerWithProxy,
  AlertmanagerWithProxyProps,
  AlertmanagerIngressOptions,
} from './alertmanager/alertmanager-with-proxy';
