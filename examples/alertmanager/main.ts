// The README's main job: Prometheus Alertmanager behind the nginx sidecar, with a patched
// script.js read from patches/ beside this file, plus the sidecar on an ordinary Deployment.
// In your own app, import from 'cdk8s-nginx-sidecar' instead of '../../src'.
import { App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  AlertmanagerConfig,
  AlertmanagerWithProxy,
  NginxSidecar,
  Route,
  SecurityHeaders,
  SidecarTarget,
  StaticFile,
} from '../../src';

const app = new App();

const alerting = new Chart(app, 'alertmanager');
new AlertmanagerWithProxy(alerting, 'alertmanager', {
  replicas: 3,
  version: '0.27.0',
  config: AlertmanagerConfig.fromObject({
    route: { receiver: 'on-call', group_by: ['alertname', 'cluster'] },
    receivers: [{ name: 'on-call', webhook_configs: [{ url: 'http://pager.monitoring.svc:8080/hook' }] }],
  }),
  apiMicroCache: Duration.seconds(1),
  overrides: [StaticFile.fromFile('/script.js', 'patches/script.js')],
  ingress: { host: 'alertmanager.example.com' },
  proxy: { responseHeaders: SecurityHeaders.recommended() },
});

// the sidecar is not Alertmanager-only: here it fronts any app in a plain Deployment
const dashboards = new Chart(app, 'any-workload');
const grafana = new kplus.Deployment(dashboards, 'grafana', {
  containers: [{ name: 'grafana', image: 'grafana/grafana:11.3.0', ports: [{ number: 3000, name: 'http' }] }],
});
const grafanaService = grafana.exposeViaService({ ports: [{ port: 80, targetPort: 3000 }] });
const grafanaProxy = new NginxSidecar(dashboards, 'proxy', {
  target: SidecarTarget.fromWorkload(grafana),
  upstreamPort: 3000,
  routes: [
    Route.cached('/public/', { validFor: Duration.days(1), browserCacheFor: Duration.hours(1) }),
    // Grafana Live pushes dashboard updates over a WebSocket
    Route.webSocket('/api/live/'),
    Route.uncached('/api/'),
  ],
});
grafanaProxy.exposeVia(grafanaService);

app.synth();
