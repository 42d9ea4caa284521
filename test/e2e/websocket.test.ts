import * as http from 'http';
import * as net from 'net';
import { Duration } from 'cdk8s';
import { Route } from '../../src';
import { describeWithNginx, RunningNginx } from '../support/nginx';
import { AppPod, startAppPod } from './support/app-pod';
import { request } from './support/http';

const IDLE_TIMEOUT_SECONDS = 2;

/**
 * An app that answers plain requests with the Upgrade header it received, and upgraded ones by
 * echoing every byte back: enough to see nginx pass an upgrade through or drop it.
 */
function upgradeEchoApp(): http.Server {
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ upgrade: req.headers.upgrade ?? null }));
  });
  server.on('upgrade', (_req, socket: net.Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    socket.pipe(socket);
  });
  return server;
}

/** An upgrade request on a raw socket: resolves with the socket and the status line nginx sent. */
function openUpgraded(port: number, path: string): Promise<{ socket: net.Socket; statusLine: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(10_000, () => socket.destroy(new Error('no upgrade answer within 10 s')));
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: app.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`);
    let received = '';
    const onData = (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end >= 0) {
        socket.off('data', onData);
        socket.setTimeout(0);
        resolve({ socket, statusLine: received.slice(0, received.indexOf('\r\n')) });
      }
    };
    socket.on('data', onData);
  });
}

function nextData(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (chunk) => resolve(chunk.toString('utf-8')));
    socket.once('error', reject);
  });
}

describeWithNginx('a WebSocket route of the sidecar, run by the real nginx from synthesized manifests', () => {
  let pod: AppPod;
  let nginx: RunningNginx;

  beforeAll(async () => {
    pod = await startAppPod(upgradeEchoApp(), [
      Route.webSocket('/live/', { idleTimeout: Duration.seconds(IDLE_TIMEOUT_SECONDS) }),
    ]);
    nginx = pod.nginx;
  });

  afterAll(async () => {
    await pod?.stop();
  });

  test('an upgrade on the route reaches the app, and bytes flow both ways', async () => {
    const { socket, statusLine } = await openUpgraded(nginx.port, '/live/feed');

    expect(statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    socket.write('ping 1');
    expect(await nextData(socket)).toBe('ping 1');
    socket.write('ping 2');
    expect(await nextData(socket)).toBe('ping 2');
    socket.destroy();
  });

  test('a plain request on the route is proxied as usual', async () => {
    const answer = await request(`${nginx.url}/live/status`);

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toEqual({ upgrade: null });
  });

  test('other paths drop the Upgrade header instead of upgrading', async () => {
    const answer = await request(`${nginx.url}/other`, { headers: { Upgrade: 'websocket', Connection: 'Upgrade' } });

    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toEqual({ upgrade: null });
  });

  test('nginx closes an upgraded connection once it has been silent for idleTimeout', async () => {
    const { socket } = await openUpgraded(nginx.port, '/live/feed');
    const opened = Date.now();
    const closedAfterMs = await new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - opened)));

    expect(closedAfterMs).toBeGreaterThanOrEqual(IDLE_TIMEOUT_SECONDS * 1000 - 100);
    expect(closedAfterMs).toBeLessThan(IDLE_TIMEOUT_SECONDS * 1000 + 3000);
  });
});
