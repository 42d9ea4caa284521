export * from './nginx/route';
export * from './nginx/static-file';
export * from './nginx/options';
export * from './sidecar/sidecar-target';
export * from './sidecar/nginx-sidecar';
export * from './alertmanager/alertmanager-config';
export * from './alertmanager/alertmanager-storage';
export * from './alertmanager/alertmanager-with-proxy';
