import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/**
 * Real programs the end-to-end helpers run. Each path can be moved with an environment variable
 * (`NGINX_BIN`, `ALERTMANAGER_BIN`, `WRK_BIN`).
 */
export type Tool = 'nginx' | 'alertmanager' | 'wrk';

const TOOLS: Record<Tool, { env: string; paths: string[]; debianPackage: string }> = {
  nginx: { env: 'NGINX_BIN', paths: ['/usr/sbin/nginx'], debianPackage: 'nginx-light' },
  alertmanager: {
    env: 'ALERTMANAGER_BIN',
    paths: ['/usr/bin/prometheus-alertmanager'],
    debianPackage: 'prometheus-alertmanager',
  },
  wrk: { env: 'WRK_BIN', paths: ['/usr/bin/wrk'], debianPackage: 'wrk' },
};

/** Absolute path of `tool`, or undefined when it is not installed. */
export function toolPath(tool: Tool): string | undefined {
  const { env, paths } = TOOLS[tool];
  const candidates = process.env[env] ? [process.env[env]!] : paths;
  return candidates.find((candidate) => isExecutable(candidate));
}

/** Absolute path of `tool`; throws with the install command when it is missing. */
export function requireTool(tool: Tool): string {
  const found = toolPath(tool);
  if (!found) {
    const { env, paths, debianPackage } = TOOLS[tool];
    throw new Error(`${tool} not found at ${process.env[env] ?? paths.join(', ')}: `
      + `run 'apt-get install ${debianPackage}' (.ci/run does) or set ${env}`);
  }
  return found;
}

/** True when running under CI, where a missing tool fails the tests instead of skipping them. */
export function isCi(): boolean {
  const value = (process.env.CI ?? '').toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
}

/**
 * `describe` when every tool is installed (and always under CI, where a missing tool then fails
 * each test); otherwise `describe.skip` with the reason in its title, so jest counts and prints
 * the tests as skipped instead of passing them.
 */
export function describeWith(tools: Tool[], name: string, fn: () => void): void {
  const missing = missingTools(tools);
  if (missing.length === 0 || isCi()) {
    describe(name, fn);
  } else {
    describe.skip(`${name} (skipped: ${missing.join(', ')} not installed)`, fn);
  }
}

/** The `test` twin of {@link describeWith}. */
export function testWith(
  tools: Tool[],
  name: string,
  fn: jest.ProvidesCallback,
  timeout?: number,
): void {
  const missing = missingTools(tools);
  if (missing.length === 0 || isCi()) {
    test(name, fn, timeout);
  } else {
    test.skip(`${name} (skipped: ${missing.join(', ')} not installed)`, fn, timeout);
  }
}

function missingTools(tools: Tool[]): Tool[] {
  return tools.filter((tool) => !toolPath(tool));
}

/**
 * The user real programs run as. Tests running as root drop to nobody (65534), as in a pod
 * that runs as non-root, so a config that needs root privileges fails here too.
 */
export interface RunAsUser {
  readonly uid: number;
  readonly gid: number;
  /** Program and arguments that run `command` as this user. */
  wrap(command: string, args: string[]): [string, string[]];
  /** Gives `file` to this user, when that needs root. */
  own(file: string): void;
}

const NOBODY = 65534;

export function runAsUser(): RunAsUser {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    return {
      uid: process.getuid?.() ?? -1,
      gid: process.getgid?.() ?? -1,
      wrap: (command, args) => [command, args],
      own: () => undefined,
    };
  }
  return {
    uid: NOBODY,
    gid: NOBODY,
    // --pdeathsig: the program dies with the jest worker even if no cleanup hook runs
    wrap: (command, args) => ['setpriv', [
      `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--pdeathsig=KILL',
      command, ...args,
    ]],
    own: (file) => fs.chownSync(file, NOBODY, NOBODY),
  };
}

/**
 * A fresh directory under the system temp dir, readable by the run user, removed by
 * {@link cleanUp} (which jest runs after each test file). Set KEEP_TEST_DIRS=1 to keep them.
 */
export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  // mkdtemp makes 0700; the unprivileged run user must be able to enter it
  fs.chmodSync(dir, 0o755);
  tempDirs.add(dir);
  return dir;
}

/** A TCP port on 127.0.0.1 that nothing listened on a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address) {
          resolve(address.port);
        } else {
          reject(new Error(`unexpected server address ${JSON.stringify(address)}`));
        }
      });
    });
  });
}

/**
 * A program started by {@link startProcess}: stopped by {@link cleanUp} if the test does not.
 */
export interface RunningProcess {
  readonly pid: number;
  /** True once the program exited. */
  readonly exited: boolean;
  /** Everything the program wrote to stdout so far. */
  stdout(): string;
  /** Everything the program wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then SIGKILL to its process group after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartProcessOptions {
  readonly command: string;
  readonly args: string[];
  /** Folder for the stdout and stderr files, owned by the run user. */
  readonly logDir: string;
  /** Log file base name. */
  readonly name: string;
  /** Drop to the unprivileged run user when running as root. */
  readonly dropPrivileges: boolean;
  readonly cwd?: string;
}

export function startProcess(options: StartProcessOptions): RunningProcess {
  const user = runAsUser();
  const stdoutPath = path.join(options.logDir, `${options.name}.stdout.log`);
  const stderrPath = path.join(options.logDir, `${options.name}.stderr.log`);
  // files, not pipes: a dropped-privilege program can reopen /dev/stdout only on a file it owns
  const stdoutFd = openLog(stdoutPath, options.dropPrivileges ? user : undefined);
  const stderrFd = openLog(stderrPath, options.dropPrivileges ? user : undefined);
  const [command, args] = options.dropPrivileges
    ? user.wrap(options.command, options.args) : [options.command, options.args];
  let child: ChildProcess;
  try {
    // a process group of its own, so stop() reaches workers the program forked
    child = spawn(command, args, {
      cwd: options.cwd, detached: true, stdio: ['ignore', stdoutFd, stderrFd],
    });
  } finally {
    fs.closeSync(stdoutFd);
    fs.closeSync(stderrFd);
  }
  if (child.pid === undefined) {
    throw new Error(`could not start ${command} ${args.join(' ')}`);
  }
  const pid = child.pid;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    running.delete(handle);
    resolve();
  }));
  const handle: RunningProcess = {
    pid,
    stdout: () => readIfExists(stdoutPath),
    stderr: () => readIfExists(stderrPath),
    get exited() { return exited; },
    stop: async (graceMs = 5_000) => {
      if (exited) {
        return;
      }
      signal(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
      // workers left behind by a master that died first
      signalGroup(pid, 'SIGKILL');
    },
  };
  running.add(handle);
  return handle;
}

/**
 * Polls until something accepts TCP on 127.0.0.1:`port`; throws with the program's logs when it
 * exits first or the timeout passes.
 */
export async function waitForPort(
  processHandle: RunningProcess,
  port: number,
  timeoutMs = 15_000,
): Promise<void> {
  await waitUntil(processHandle, `TCP on 127.0.0.1:${port}`, timeoutMs, () => canConnect(port));
}

/** Polls `probe` every 50 ms until it resolves true; throws with the logs on exit or timeout. */
export async function waitUntil(
  processHandle: RunningProcess,
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processHandle.exited) {
      const logs = logsOf(processHandle);
      throw new Error(`process ${processHandle.pid} exited before ${what}\n${logs}`);
    }
    if (await probe()) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await processHandle.stop();
  throw new Error(`no ${what} within ${timeoutMs} ms\n${logsOf(processHandle)}`);
}

function logsOf(processHandle: RunningProcess): string {
  return `--- stdout\n${processHandle.stdout()}--- stderr\n${processHandle.stderr()}`;
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Stops every program still running and removes every temp dir; jest runs it after each file. */
export async function cleanUp(): Promise<void> {
  await Promise.all([...running].map((processHandle) => processHandle.stop()));
  if (process.env.KEEP_TEST_DIRS) {
    return;
  }
  for (const dir of tempDirs) {
    removeTree(dir);
  }
  tempDirs.clear();
}

const running = new Set<RunningProcess>();
const tempDirs = new Set<string>();

// last resort when the worker exits without running afterAll (a crash, process.exit)
function killAllNow(): void {
  for (const processHandle of running) {
    signalGroup(processHandle.pid, 'SIGKILL');
  }
}
process.once('exit', killAllNow);

if (typeof afterAll === 'function') {
  afterAll(async () => {
    await cleanUp();
    // jest loads this module afresh for every test file, in a worker that outlives the file
    process.removeListener('exit', killAllNow);
  });
}

/** Removes `dir`, first restoring write permission on folders made read-only like a volume. */
export function removeTree(dir: string): void {
  const makeWritable = (target: string) => {
    try {
      const stat = fs.lstatSync(target);
      if (stat.isDirectory()) {
        fs.chmodSync(target, 0o755);
        for (const entry of fs.readdirSync(target)) {
          makeWritable(path.join(target, entry));
        }
      }
    } catch {
      // gone or not ours: rmSync below reports what matters
    }
  };
  makeWritable(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

function openLog(file: string, owner: RunAsUser | undefined): number {
  const fd = fs.openSync(file, 'w', 0o644);
  owner?.own(file);
  return fd;
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function signalGroup(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pid, name);
  } catch {
    // already gone
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
