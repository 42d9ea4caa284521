import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { makeTempDir, requireTool, RunningProcess, startProcess, waitUntil } from '../../support/processes';

/**
 * The Alertmanager container of synthesized manifests, laid out on this machine. test/support's
 * `layOutPod` handles the nginx container only (it needs `-c <config>` in the args), so this
 * does the same for Alertmanager: Secret, ConfigMap and emptyDir volumes become folders, and the
 * container's args are rewritten to point at them.
 */
export interface AlertmanagerPod {
  /** Temp folder holding the volumes and logs. */
  readonly root: string;
  /** The args as synthesized. */
  readonly synthesizedArgs: string[];
  /** The args this machine runs: mount paths and the listen port moved, the UI added. */
  readonly args: string[];
  /** Port on 127.0.0.1 the web listener uses here. */
  readonly port: number;
  /** Folder the storage volume (`--storage.path`) lives in here. */
  readonly storageDir: string;
}

export interface LayOutAlertmanagerOptions {
  /** Port on 127.0.0.1 that replaces the synthesized web port. */
  readonly port: number;
  /** Folder to serve as the UI (`--web.ui-path`), which the container image would bring. */
  readonly uiDir: string;
  /**
   * Name of the Alertmanager container.
   *
   * @default 'alertmanager'
   */
  readonly containerName?: string;
}

/** Lays out the Alertmanager container's volumes and args from manifests alone. */
export function layOutAlertmanager(objects: any[], options: LayOutAlertmanagerOptions): AlertmanagerPod {
  const containerName = options.containerName ?? 'alertmanager';
  const { pod, container } = findContainer(objects, containerName);
  const root = makeTempDir('alertmanager-pod');
  fs.mkdirSync(path.join(root, 'logs'), { mode: 0o777 });
  fs.chmodSync(path.join(root, 'logs'), 0o777);

  const mounts: Array<[string, string]> = [];
  for (const mount of container.volumeMounts ?? []) {
    const volume = (pod.volumes ?? []).find((v: any) => v.name === mount.name);
    if (!volume) {
      throw new Error(`volumeMount '${mount.name}' of '${containerName}' has no volume in the pod `
        + '(a volumeClaimTemplate? use AlertmanagerStorage.ephemeral() in tests)');
    }
    const dir = path.join(root, 'volumes', mount.name);
    if (!fs.existsSync(dir)) {
      writeVolume(volume, dir, objects);
    }
    mounts.push([mount.mountPath.replace(/\/+$/, ''), mount.subPath ? path.join(dir, mount.subPath) : dir]);
  }
  // longest first, so /etc/alertmanager/x wins over /etc
  mounts.sort((a, b) => b[0].length - a[0].length);

  const synthesizedArgs: string[] = container.args ?? [];
  const args = synthesizedArgs
    .filter((arg) => !arg.startsWith('--web.ui-path='))
    .map((arg) => {
      const [flag, value] = splitFlag(arg);
      if (flag === '--web.listen-address') {
        return `${flag}=127.0.0.1:${options.port}`;
      }
      if (flag === '--cluster.listen-address' && value !== '') {
        throw new Error(`'${arg}': only a single, unclustered replica runs here`);
      }
      if (value === undefined) {
        return arg;
      }
      const mount = mounts.find(([mountPath]) => value === mountPath || value.startsWith(`${mountPath}/`));
      return mount ? `${flag}=${mount[1]}${value.slice(mount[0].length)}` : arg;
    });
  args.push(`--web.ui-path=${options.uiDir.replace(/\/?$/, '/')}`);

  const storageArg = args.find((arg) => arg.startsWith('--storage.path='));
  if (!storageArg) {
    throw new Error(`container '${containerName}' args ${JSON.stringify(synthesizedArgs)} lack --storage.path`);
  }
  return { root, synthesizedArgs, args, port: options.port, storageDir: splitFlag(storageArg)[1]! };
}

/** A running Alertmanager from {@link startAlertmanagerPod}. */
export interface RunningAlertmanagerPod extends RunningProcess {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/**
 * Starts the real Alertmanager with the pod's args, as the unprivileged user the image runs as,
 * and resolves once `/-/ready` answers 200.
 */
export async function startAlertmanagerPod(pod: AlertmanagerPod, timeoutMs = 15_000): Promise<RunningAlertmanagerPod> {
  const binary = requireTool('alertmanager');
  const processHandle = startProcess({
    command: binary,
    args: pod.args,
    logDir: path.join(pod.root, 'logs'),
    name: `alertmanager-${Date.now()}`,
    dropPrivileges: true,
    cwd: pod.root,
  });
  const readyUrl = `http://127.0.0.1:${pod.port}/-/ready`;
  await waitUntil(processHandle, `200 from ${readyUrl}`, timeoutMs, async () => (await statusOf(readyUrl)) === 200);
  return {
    pid: processHandle.pid,
    port: pod.port,
    url: `http://127.0.0.1:${pod.port}`,
    get exited() { return processHandle.exited; },
    stdout: () => processHandle.stdout(),
    stderr: () => processHandle.stderr(),
    stop: (graceMs) => processHandle.stop(graceMs),
  };
}

function splitFlag(arg: string): [string, string | undefined] {
  const equals = arg.indexOf('=');
  return equals < 0 ? [arg, undefined] : [arg.slice(0, equals), arg.slice(equals + 1)];
}

function findContainer(objects: any[], name: string): { pod: any; container: any } {
  for (const object of objects) {
    const pod = object?.kind === 'Pod' ? object.spec : object?.spec?.template?.spec;
    const container = (pod?.containers ?? []).find((c: any) => c?.name === name);
    if (container) {
      return { pod, container };
    }
  }
  throw new Error(`no workload in the manifests has a container named '${name}'`);
}

function writeVolume(volume: any, dir: string, objects: any[]): void {
  fs.mkdirSync(dir, { recursive: true });
  if (volume.emptyDir) {
    fs.chmodSync(dir, 0o777);
    return;
  }
  const source = volume.secret ?? volume.configMap;
  if (!source) {
    throw new Error(`volume '${volume.name}': only secret, configMap and emptyDir are supported`);
  }
  const kind = volume.secret ? 'Secret' : 'ConfigMap';
  const name = volume.secret ? source.secretName : source.name;
  const object = objects.find((o) => o?.kind === kind && o.metadata?.name === name);
  if (!object) {
    throw new Error(`volume '${volume.name}' needs ${kind} '${name}', not in the manifests`);
  }
  const content: Record<string, Buffer> = {};
  const encoded = kind === 'Secret' ? object.data : object.binaryData;
  const plain = kind === 'Secret' ? object.stringData : object.data;
  for (const [key, base64] of Object.entries<string>(encoded ?? {})) {
    content[key] = Buffer.from(base64, 'base64');
  }
  for (const [key, text] of Object.entries<string>(plain ?? {})) {
    content[key] = Buffer.from(text, 'utf-8');
  }
  const items: Array<{ key: string; path: string; mode?: number }> = source.items
    ?? Object.keys(content).map((key) => ({ key, path: key }));
  for (const item of items) {
    const file = path.join(dir, item.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content[item.key] ?? Buffer.alloc(0));
    fs.chmodSync(file, item.mode ?? source.defaultMode ?? 0o644);
  }
}

async function statusOf(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1_000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
  });
}
