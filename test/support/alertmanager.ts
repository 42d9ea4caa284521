import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import {
  describeWith, freePort, makeTempDir, requireTool, RunningProcess, startProcess, testWith,
  waitUntil,
} from './processes';

export interface AlertmanagerOptions {
  /**
   * Port of the web listener on 127.0.0.1.
   *
   * @default - a free port
   */
  readonly port?: number;
  /**
   * `--cluster.listen-address`.
   *
   * @default '' - clustering off
   */
  readonly clusterListen?: string;
  /**
   * Folder served as the UI (`--web.ui-path`). Debian's package ships an empty one, so `/` and
   * `/script.js` would answer 404.
   *
   * @default - a stand-in UI written by {@link writeStandInUi}
   */
  readonly uiDir?: string;
  /**
   * Text of alertmanager.yml.
   *
   * @default - one route to a receiver named 'null' that notifies nobody
   */
  readonly config?: string;
  /**
   * More command-line flags, after the ones above.
   *
   * @default - none
   */
  readonly args?: string[];
  /**
   * How long Alertmanager may take to answer `/-/ready`.
   *
   * @default 15000
   */
  readonly timeoutMs?: number;
}

/** A running Alertmanager started by {@link startAlertmanager}. */
export interface RunningAlertmanager extends RunningProcess {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Folder holding alertmanager.yml, data/ and (by default) ui/. */
  readonly dir: string;
}

const DEFAULT_CONFIG = [
  'route:',
  '  receiver: "null"',
  'receivers:',
  '  - name: "null"',
  '',
].join('\n');

/**
 * Files of the stand-in UI, by path: the paths Alertmanager 0.25 to 0.31 serves its UI from.
 */
export const STAND_IN_UI: Readonly<Record<string, string>> = {
  'index.html': '<!DOCTYPE html><html><head><script src="script.js"></script></head></html>\n',
  'script.js': '// stand-in for the Elm bundle of the Alertmanager UI\nconsole.log("ui");\n',
  'favicon.ico': 'stand-in icon\n',
  'lib/bootstrap-4.0.0-alpha.6-dist/css/bootstrap.min.css': 'body { margin: 0; }\n',
};

/** Writes {@link STAND_IN_UI} into `dir`. */
export function writeStandInUi(dir: string): void {
  for (const [file, text] of Object.entries(STAND_IN_UI)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
}

/**
 * Starts the real Alertmanager on 127.0.0.1 with a temp storage folder and resolves once
 * `/-/ready` answers 200. The process is stopped after the test file even if `stop()` is not
 * called.
 */
export async function startAlertmanager(
  options: AlertmanagerOptions = {},
): Promise<RunningAlertmanager> {
  const binary = requireTool('alertmanager');
  const port = options.port ?? await freePort();
  const dir = makeTempDir('alertmanager');
  const configFile = path.join(dir, 'alertmanager.yml');
  fs.writeFileSync(configFile, options.config ?? DEFAULT_CONFIG);
  const uiDir = options.uiDir ?? path.join(dir, 'ui');
  if (!options.uiDir) {
    writeStandInUi(uiDir);
  }

  const processHandle = startProcess({
    command: binary,
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--cluster.listen-address=${options.clusterListen ?? ''}`,
      `--web.ui-path=${uiDir.endsWith('/') ? uiDir : `${uiDir}/`}`,
      ...options.args ?? [],
    ],
    logDir: dir,
    name: 'alertmanager',
    // nothing here needs root, and nothing needs to prove it runs without
    dropPrivileges: false,
    cwd: dir,
  });
  const readyUrl = `http://127.0.0.1:${port}/-/ready`;
  await waitUntil(processHandle, `200 from ${readyUrl}`, options.timeoutMs ?? 15_000,
    async () => (await statusOf(readyUrl)) === 200);
  return {
    pid: processHandle.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    dir,
    get exited() { return processHandle.exited; },
    stdout: () => processHandle.stdout(),
    stderr: () => processHandle.stderr(),
    stop: (graceMs) => processHandle.stop(graceMs),
  };
}

/** `describe` that needs the real Alertmanager and nginx; skipped with the reason off CI. */
export function describeWithAlertmanager(name: string, fn: () => void): void {
  describeWith(['nginx', 'alertmanager'], name, fn);
}

/** `test` that needs the real Alertmanager and nginx; skipped with the reason off CI. */
export function testWithAlertmanager(
  name: string,
  fn: jest.ProvidesCallback,
  timeout?: number,
): void {
  testWith(['nginx', 'alertmanager'], name, fn, timeout);
}

async function statusOf(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(url, { timeout: 1_000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(undefined));
  });
}
