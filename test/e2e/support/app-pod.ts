import * as http from 'http';
import { Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { NginxSidecar, NginxSidecarOptions, Route, SidecarTarget } from '../../../src';
import { validateManifests } from '../../support/manifests';
import { freePort, layOutPod, RunningNginx, startNginx } from '../../support/nginx';

/** The app's port in the synthesized pod; the test moves it to a free port on this machine. */
export const APP_PORT = 3000;

/** A pod of an ordinary app behind the sidecar, both running on 127.0.0.1. */
export interface AppPod {
  /** The app, a Node.js HTTP server in this test process. */
  readonly app: http.Server;
  /** The real nginx, run as an unprivileged user from the synthesized manifests. */
  readonly nginx: RunningNginx;
  stop(): Promise<void>;
}

/**
 * Synthesizes a Deployment of an app on port 3000 with an NginxSidecar of `routes`, checks the
 * manifests against the schemas, starts `app` on a free port and nginx on the laid-out config.
 */
export async function startAppPod(
  app: http.Server,
  routes: Route[],
  options: NginxSidecarOptions = {},
): Promise<AppPod> {
  const chart = Testing.chart();
  const deployment = new kplus.Deployment(chart, 'app', {
    containers: [{ name: 'app', image: 'example/app:1.0.0', ports: [{ number: APP_PORT, name: 'http' }] }],
  });
  new NginxSidecar(chart, 'proxy', { ...options, target: SidecarTarget.fromWorkload(deployment), upstreamPort: APP_PORT, routes });
  const manifests = Testing.synth(chart);
  validateManifests(manifests);

  const [appPort, listen, compressor] = [await freePort(), await freePort(), await freePort()];
  await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
  const listenPort = options.listenPort ?? 8080;
  const layout = layOutPod(manifests, {
    ports: { [listenPort]: listen, [options.compressorPort ?? listenPort + 1]: compressor, [APP_PORT]: appPort },
  });
  const nginx = await startNginx(layout, { port: listen });
  return {
    app,
    nginx,
    async stop() {
      await nginx.stop();
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    },
  };
}
