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
export { NginxSidecar, NginxSidecarProps, ExposeViaOptions, SecurityHeaders } from './sidecar/nginx-sidecar';
