import * as fs from 'fs';
import * as path from 'path';
import { Duration, Testing } from 'cdk8s';
import { AlertmanagerPod, layOutAlertmanager, RunningAlertmanagerPod, startAlertmanagerPod } from './alertmanager-pod';
import { UiFiles, writeUi } from './ui-assets';
import { AlertmanagerStorage, AlertmanagerWithProxy, NginxSidecarOptions, StaticFile } from '../../../src';
import { validateManifests } from '../../support/manifests';
import { expectNginxConfigValid, freePort, layOutPod, PodLayout, RunningNginx, startNginx } from '../../support/nginx';
import { makeTempDir } from '../../support/processes';

/** The port AlertmanagerWithProxy gives Alertmanager in the pod. */
const ALERTMANAGER_POD_PORT = 9093;

export interface StackOptions {
  /** `apiMicroCache` of AlertmanagerWithProxy. @default - API answers never cached */
  readonly apiMicroCache?: Duration;
  /** `overrides` of AlertmanagerWithProxy. @default - none */
  readonly overrides?: StaticFile[];
  /** `proxy` tuning; listenPort and compressorPort are always free ports here. @default - none */
  readonly proxy?: NginxSidecarOptions;
}

/**
 * One Alertmanager pod on this machine, built from the manifests AlertmanagerWithProxy
 * synthesizes: the real Alertmanager with the synthesized args, and the real nginx, unprivileged,
 * with the synthesized nginx.conf and override files.
 */
export interface Stack {
  readonly manifests: any[];
  readonly nginxConf: string;
  readonly layout: PodLayout;
  readonly alertmanagerPod: AlertmanagerPod;
  readonly ui: UiFiles;
  readonly nginx: RunningNginx;
  /** `http://127.0.0.1:<listen port>`: the public nginx server. */
  readonly nginxUrl: string;
  /** `http://127.0.0.1:<port>`: Alertmanager itself, as Prometheus reaches it. */
  readonly alertmanagerUrl: string;
  /** The folder nginx keeps its proxy cache in (inside the state emptyDir). */
  readonly cacheDir: string;
  /** The current Alertmanager process; replaced by {@link Stack.restartAlertmanager}. */
  readonly alertmanager: RunningAlertmanagerPod;
  /** Stops Alertmanager by PID and waits until it exited. */
  stopAlertmanager(): Promise<void>;
  /** Starts Alertmanager again with the same args and storage; resolves once it is ready. */
  restartAlertmanager(): Promise<void>;
  /** Stops nginx and Alertmanager by PID. */
  stop(): Promise<void>;
}

/** Synthesizes an AlertmanagerWithProxy, lays its pod out and starts both programs. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const [listenPort, compressorPort, alertmanagerPort] = await distinctFreePorts(3);
  const chart = Testing.chart();
  const construct = new AlertmanagerWithProxy(chart, 'alertmanager', {
    storage: AlertmanagerStorage.ephemeral(),
    apiMicroCache: options.apiMicroCache,
    overrides: options.overrides,
    proxy: { ...options.proxy, listenPort, compressorPort },
  });
  const manifests = Testing.synth(chart);
  validateManifests(manifests);

  // only the app's port moves: nginx's own ports came from the props
  const layout = layOutPod(manifests, { ports: { [ALERTMANAGER_POD_PORT]: alertmanagerPort } });
  bindToLoopback(layout.runConfigPath, listenPort);
  expectNginxConfigValid(layout);

  const uiDir = path.join(makeTempDir('alertmanager-ui'), 'ui');
  const ui = writeUi(uiDir);
  const alertmanagerPod = layOutAlertmanager(manifests, { port: alertmanagerPort, uiDir });

  let alertmanager = await startAlertmanagerPod(alertmanagerPod);
  let nginx: RunningNginx;
  try {
    nginx = await startNginx(layout, { port: listenPort });
  } catch (e) {
    await alertmanager.stop();
    throw e;
  }
  return {
    manifests,
    nginxConf: construct.proxy.nginxConf,
    layout,
    alertmanagerPod,
    ui,
    nginx,
    nginxUrl: nginx.url,
    alertmanagerUrl: `http://127.0.0.1:${alertmanagerPort}`,
    cacheDir: path.join(layout.mountMap['/var/cache/nginx'], 'proxy_cache'),
    get alertmanager() { return alertmanager; },
    stopAlertmanager: () => alertmanager.stop(),
    restartAlertmanager: async () => {
      await alertmanager.stop();
      alertmanager = await startAlertmanagerPod(alertmanagerPod);
    },
    stop: async () => {
      await Promise.all([nginx.stop(), alertmanager.stop()]);
    },
  };
}

/** Every file below `dir`, recursively. */
export function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) {
    return [];
  }
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? filesBelow(file) : [file];
  });
}

/**
 * The pod listens on every address; here the public server binds 127.0.0.1 only, so nothing
 * outside this machine can reach the test's nginx. Nothing else in the config changes.
 */
function bindToLoopback(configPath: string, port: number): void {
  const text = fs.readFileSync(configPath, 'utf-8');
  const pattern = new RegExp(`(\\blisten\\s+)${port}(\\s*;)`);
  if (!pattern.test(text)) {
    throw new Error(`no 'listen ${port};' in ${configPath}`);
  }
  fs.writeFileSync(configPath, text.replace(pattern, `$1127.0.0.1:${port}$2`));
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    ports.add(await freePort());
  }
  return [...ports];
}
