import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  describeWith, makeTempDir, requireTool, RunningProcess, runAsUser, startProcess, testWith,
  waitForPort,
} from './processes';

export { cleanUp, describeWith, freePort, isCi, testWith, toolPath } from './processes';
export type { RunningProcess, Tool } from './processes';
export {
  describeWithAlertmanager, STAND_IN_UI, startAlertmanager, testWithAlertmanager, writeStandInUi,
} from './alertmanager';
export type { AlertmanagerOptions, RunningAlertmanager } from './alertmanager';

/**
 * One container's view of its pod, laid out on this machine so the real nginx can run its config.
 */
export interface PodLayout {
  /** Fresh temp folder holding everything below; nginx runs with it as prefix (`-p`). */
  readonly root: string;
  /** Mount path in the container → folder (or file, for a subPath mount) on this machine. */
  readonly mountMap: Record<string, string>;
  /** The container's args, untouched. */
  readonly args: string[];
  /** Config path in the container: the argument after `-c`. */
  readonly configPath: string;
  /** The config as synthesized, on this machine; never modified. */
  readonly hostConfigPath: string;
  /** The config with every mount path replaced by its folder here: what nginx runs. */
  readonly runConfigPath: string;
  /** Folder for logs, owned by the user nginx runs as. */
  readonly logDir: string;
  /** Replaces mount paths (longest first) and mapped ports in nginx config text. */
  rewrite(text: string): string;
}

export interface LayOutPodOptions {
  /**
   * Name of the nginx container.
   *
   * @default 'nginx'
   */
  readonly containerName?: string;
  /**
   * Ports to move: container port → port on this machine. Rewrites `listen` directives and
   * `localhost:N` / `127.0.0.1:N` addresses, so several pods' configs can run side by side.
   *
   * @default - no port is moved
   */
  readonly ports?: Record<number, number>;
}

/**
 * Lays out the volumes of the container named `containerName` from synthesized manifests:
 * ConfigMap and Secret volumes become folders holding their items (keys, paths and modes as the
 * kubelet writes them, read-only), emptyDirs become empty writable folders. The config named by
 * `-c` in the container's args is rewritten beside the original, which stays untouched, and so
 * are files it includes by plain path.
 */
export function layOutPod(objects: any[], options: LayOutPodOptions = {}): PodLayout {
  const containerName = options.containerName ?? 'nginx';
  const { pod, container } = findContainer(objects, containerName);
  const args: string[] = container.args ?? [];
  const configIndex = args.indexOf('-c');
  if (configIndex < 0 || configIndex === args.length - 1) {
    throw new Error(
      `container '${containerName}' args ${JSON.stringify(args)} lack '-c <config>'`);
  }
  const configPath = args[configIndex + 1];

  const root = makeTempDir('nginx-pod');
  const logDir = path.join(root, 'logs');
  fs.mkdirSync(logDir, { mode: 0o777 });
  fs.chmodSync(logDir, 0o777);
  const volumeDirs = new Map<string, string>();
  const readOnlyDirs: string[] = [];
  for (const volume of pod.volumes ?? []) {
    const dir = path.join(root, 'volumes', volume.name);
    const readOnly = writeVolume(volume, dir, objects);
    volumeDirs.set(volume.name, dir);
    if (readOnly) {
      readOnlyDirs.push(dir);
    }
  }

  const mountMap: Record<string, string> = {};
  for (const mount of container.volumeMounts ?? []) {
    const dir = volumeDirs.get(mount.name);
    if (!dir) {
      throw new Error(
        `volumeMount '${mount.name}' of '${containerName}' has no volume in the pod`);
    }
    mountMap[stripSlash(mount.mountPath)] = mount.subPath ? path.join(dir, mount.subPath) : dir;
  }

  const rewrite = makeRewriter(mountMap, options.ports ?? {});
  const hostConfigPath = hostPathOf(configPath, mountMap);
  if (!hostConfigPath || !fs.existsSync(hostConfigPath)) {
    throw new Error(`config ${configPath} is not in any volume mounted into '${containerName}'`);
  }
  const runConfigPath = writeRewritten(hostConfigPath, {
    rewrite, root, confDir: path.dirname(hostConfigPath), seen: new Set(),
  });

  // as the kubelet mounts ConfigMaps and Secrets: nginx must not be able to write there
  for (const dir of readOnlyDirs) {
    makeReadOnly(dir);
  }
  return { root, mountMap, args, configPath, hostConfigPath, runConfigPath, logDir, rewrite };
}

/**
 * A hand-written config and the files beside it, for tests that need no manifests.
 * Relative paths in `config` resolve against the layout's root, which nginx gets as prefix.
 */
export interface NginxFiles {
  /** Text of nginx.conf. */
  readonly config: string;
  /**
   * More files, by path relative to the root.
   *
   * @default - none
   */
  readonly files?: Record<string, string>;
}

/** Lays out a hand-written config: the root holds nginx.conf, `files` and a writable tmp/. */
export function layOutFiles(input: NginxFiles): PodLayout {
  const root = makeTempDir('nginx-files');
  const logDir = path.join(root, 'logs');
  fs.mkdirSync(logDir, { mode: 0o777 });
  fs.chmodSync(logDir, 0o777);
  fs.mkdirSync(path.join(root, 'tmp'), { mode: 0o777 });
  fs.chmodSync(path.join(root, 'tmp'), 0o777);
  for (const [file, text] of Object.entries(input.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text, { mode: 0o644 });
  }
  const configPath = path.join(root, 'nginx.conf');
  fs.writeFileSync(configPath, input.config, { mode: 0o644 });
  return {
    root,
    mountMap: {},
    args: ['-g', 'daemon off;', '-c', configPath],
    configPath,
    hostConfigPath: configPath,
    runConfigPath: configPath,
    logDir,
    rewrite: (text) => text,
  };
}

/** The outcome of `nginx -t`. */
export interface NginxCheckResult {
  readonly ok: boolean;
  /** What nginx printed, stdout and stderr together. */
  readonly output: string;
}

/**
 * Runs the real `nginx -t` on the rewritten config, as an unprivileged user.
 * Throws only when nginx cannot be run at all; see {@link expectNginxConfigValid}.
 */
export function checkNginxConfig(target: PodLayout | NginxFiles): NginxCheckResult {
  const layout = isLayout(target) ? target : layOutFiles(target);
  const nginx = requireTool('nginx');
  const user = runAsUser();
  const outputPath = path.join(layout.logDir, `nginx-t-${Date.now()}.log`);
  const fd = fs.openSync(outputPath, 'w', 0o644);
  user.own(outputPath);
  try {
    const [command, args] = user.wrap(nginx, ['-t', ...nginxArgs(layout)]);
    const result = spawnSync(command, args, { stdio: ['ignore', fd, fd], timeout: 30_000 });
    if (result.error) {
      throw result.error;
    }
    return { ok: result.status === 0, output: fs.readFileSync(outputPath, 'utf8') };
  } finally {
    fs.closeSync(fd);
  }
}

/** Throws an Error carrying nginx's own output unless `nginx -t` accepts the config. */
export function expectNginxConfigValid(target: PodLayout | NginxFiles): void {
  const result = checkNginxConfig(target);
  if (!result.ok) {
    throw new Error(`nginx -t rejected the config:\n${result.output}`);
  }
}

export interface StartNginxOptions {
  /**
   * Port to wait for on 127.0.0.1.
   *
   * @default - the port of the first `listen` directive in the run config
   */
  readonly port?: number;
  /**
   * How long nginx may take to accept connections.
   *
   * @default 15000
   */
  readonly timeoutMs?: number;
}

/** A running nginx started by {@link startNginx}. */
export interface RunningNginx extends RunningProcess {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
}

/**
 * Starts the real nginx in the foreground on a laid-out config, as an unprivileged user, and
 * resolves once it accepts TCP. The process is stopped after the test file even if `stop()` is
 * never called.
 */
export async function startNginx(
  target: PodLayout | NginxFiles,
  options: StartNginxOptions = {},
): Promise<RunningNginx> {
  const layout = isLayout(target) ? target : layOutFiles(target);
  const nginx = requireTool('nginx');
  const port = options.port ?? firstListenPort(readWithIncludes(layout.runConfigPath));
  const args = nginxArgs(layout);
  if (!args.some((arg, i) => args[i - 1] === '-g' && /daemon\s+off/.test(arg))) {
    // jest must own the process: a daemonizing nginx would escape stop()
    args.unshift('-g', 'daemon off;');
  }
  const processHandle = startProcess({
    command: nginx,
    args,
    logDir: layout.logDir,
    name: 'nginx',
    dropPrivileges: true,
    cwd: layout.root,
  });
  await waitForPort(processHandle, port, options.timeoutMs);
  return {
    pid: processHandle.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    get exited() { return processHandle.exited; },
    stdout: () => processHandle.stdout(),
    stderr: () => processHandle.stderr(),
    stop: (graceMs) => processHandle.stop(graceMs),
  };
}

/** `describe` that needs the real nginx: skipped with the reason where it is missing, off CI. */
export function describeWithNginx(name: string, fn: () => void): void {
  describeWith(['nginx'], name, fn);
}

/** `test` that needs the real nginx: skipped with the reason where it is missing, not in CI. */
export function testWithNginx(name: string, fn: jest.ProvidesCallback, timeout?: number): void {
  testWith(['nginx'], name, fn, timeout);
}

function isLayout(target: PodLayout | NginxFiles): target is PodLayout {
  return typeof (target as PodLayout).runConfigPath === 'string';
}

/** The container's args with the config and prefix pointed at this machine. */
function nginxArgs(layout: PodLayout): string[] {
  const args = [...layout.args];
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === '-c') {
      args[i + 1] = layout.runConfigPath;
    } else if (args[i] === '-p' || (args[i] === '-e' && args[i + 1] !== 'stderr')) {
      args[i + 1] = layout.rewrite(args[i + 1]);
    }
  }
  if (!args.includes('-p')) {
    args.push('-p', `${layout.root}/`);
  }
  if (!args.includes('-e')) {
    // the compiled-in error log path may not exist or be writable here
    args.push('-e', 'stderr');
  }
  return args;
}

function firstListenPort(config: string): number {
  const match = /(?:^|[\s;{}])listen\s+(?:\S*:)?(\d+)[\s;]/m.exec(config);
  if (!match) {
    throw new Error('no `listen <port>` in the config: pass { port } to startNginx');
  }
  return Number(match[1]);
}

/** Config text with every plain-path include replaced by the included file's text. */
function readWithIncludes(file: string, depth = 0): string {
  const text = fs.readFileSync(file, 'utf8');
  if (depth > 10) {
    return text;
  }
  return text.replace(/(^|[\s;{}])include\s+(['"]?)([^'";\s]+)\2\s*;/g,
    (all, before: string, _quote: string, included: string) => {
      const absolute = path.resolve(path.dirname(file), included);
      return /[*?[]/.test(included) || !fs.existsSync(absolute)
        ? all : `${before}${readWithIncludes(absolute, depth + 1)}`;
    });
}

function findContainer(objects: any[], name: string): { pod: any; container: any } {
  for (const object of objects) {
    const pod = object?.kind === 'Pod' ? object.spec
      : object?.kind === 'CronJob' ? object.spec?.jobTemplate?.spec?.template?.spec
        : object?.spec?.template?.spec;
    const container = [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]
      .find((candidate: any) => candidate?.name === name);
    if (container) {
      return { pod, container };
    }
  }
  throw new Error(`no workload in the manifests has a container named '${name}'`);
}

/** Writes one volume's content under `dir`; returns true when the kubelet mounts it read-only. */
function writeVolume(volume: any, dir: string, objects: any[]): boolean {
  fs.mkdirSync(dir, { recursive: true });
  if (volume.emptyDir) {
    // what the kubelet gives an emptyDir: writable by any user the container runs as
    fs.chmodSync(dir, 0o777);
    return false;
  }
  const source = volume.configMap ?? volume.secret;
  if (!source) {
    throw new Error(`volume '${volume.name}': only configMap, secret and emptyDir are supported, `
      + `got ${Object.keys(volume).filter((key) => key !== 'name').join(', ')}`);
  }
  const kind = volume.configMap ? 'ConfigMap' : 'Secret';
  const objectName = volume.configMap ? source.name : source.secretName;
  const object = objects.find((o) => o?.kind === kind && o.metadata?.name === objectName);
  if (!object) {
    if (source.optional) {
      return true;
    }
    throw new Error(`volume '${volume.name}' needs ${kind} '${objectName}', not in the manifests`);
  }
  const content = volumeContent(kind, object);
  const defaultMode: number = source.defaultMode ?? 0o644;
  const items: { key: string; path: string; mode?: number }[] = source.items
    ?? Object.keys(content).map((key) => ({ key, path: key }));
  for (const item of items) {
    const bytes = content[item.key];
    if (bytes === undefined) {
      if (source.optional) {
        continue;
      }
      throw new Error(
        `volume '${volume.name}': key '${item.key}' is not in ${kind} ${objectName}`);
    }
    const file = path.join(dir, item.path);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
    fs.chmodSync(file, item.mode ?? defaultMode);
  }
  return true;
}

function volumeContent(kind: string, object: any): Record<string, Buffer> {
  const content: Record<string, Buffer> = {};
  if (kind === 'ConfigMap') {
    for (const [key, text] of Object.entries<string>(object.data ?? {})) {
      content[key] = Buffer.from(text, 'utf8');
    }
    for (const [key, base64] of Object.entries<string>(object.binaryData ?? {})) {
      content[key] = Buffer.from(base64, 'base64');
    }
  } else {
    for (const [key, base64] of Object.entries<string>(object.data ?? {})) {
      content[key] = Buffer.from(base64, 'base64');
    }
    // the apiserver merges stringData over data
    for (const [key, text] of Object.entries<string>(object.stringData ?? {})) {
      content[key] = Buffer.from(text, 'utf8');
    }
  }
  return content;
}

/**
 * A function replacing each mount path with its folder here, longest first, and only where the
 * path stands whole: `/nginx` is rewritten in `/nginx/nginx.conf` but not in `/usr/share/nginx`.
 */
function makeRewriter(
  mountMap: Record<string, string>,
  ports: Record<number, number>,
): (text: string) => string {
  const mounts = Object.keys(mountMap).sort((a, b) => b.length - a.length);
  const pathPattern = mounts.length === 0 ? undefined : new RegExp(
    `(^|[^\\w.\\-/])(${mounts.map(escapeRegExp).join('|')})(?=$|/|[^\\w.\\-])`, 'gm');
  const portAlternatives = Object.keys(ports).join('|');
  const portPattern = portAlternatives === '' ? undefined : new RegExp(
    `(\\blisten\\s+(?:\\S*:)?|\\blocalhost:|\\b127\\.0\\.0\\.1:)(${portAlternatives})\\b`, 'g');
  return (text) => {
    let result = text;
    if (pathPattern) {
      result = result.replace(pathPattern, (_all, before: string, mount: string) =>
        `${before}${mountMap[mount]}`);
    }
    if (portPattern) {
      result = result.replace(portPattern, (_all, before: string, port: string) =>
        `${before}${ports[Number(port)]}`);
    }
    return result;
  };
}

interface RewriteContext {
  readonly rewrite: (text: string) => string;
  readonly root: string;
  /** nginx resolves a relative include against the main config's folder */
  readonly confDir: string;
  readonly seen: Set<string>;
}

/**
 * Writes `file` rewritten as `<file>.host` beside it, and likewise every file it includes by a
 * plain (non-glob) path under the root; returns the path of the rewritten copy.
 */
function writeRewritten(file: string, context: RewriteContext): string {
  const target = `${file}.host`;
  if (context.seen.has(file)) {
    return target;
  }
  context.seen.add(file);
  const text = context.rewrite(fs.readFileSync(file, 'utf8')).replace(
    /(^|[\s;{}])include\s+(['"]?)([^'";\s]+)\2\s*;/g,
    (all, before: string, quote: string, included: string) => {
      const absolute = path.resolve(context.confDir, included);
      const isPlainFileHere = !/[*?[]/.test(included)
        && absolute.startsWith(`${context.root}/`) && fs.existsSync(absolute);
      if (!isPlainFileHere) {
        return all;
      }
      return `${before}include ${quote}${writeRewritten(absolute, context)}${quote};`;
    });
  fs.writeFileSync(target, text, { mode: 0o644 });
  return target;
}

function hostPathOf(containerPath: string, mountMap: Record<string, string>): string | undefined {
  const mount = Object.keys(mountMap).sort((a, b) => b.length - a.length)
    .find((candidate) => containerPath === candidate || containerPath.startsWith(`${candidate}/`));
  return mount === undefined ? undefined : mountMap[mount] + containerPath.slice(mount.length);
}

function makeReadOnly(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      makeReadOnly(path.join(dir, entry.name));
    }
  }
  fs.chmodSync(dir, 0o555);
}

function stripSlash(mountPath: string): string {
  return mountPath.length > 1 ? mountPath.replace(/\/+$/, '') : mountPath;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
