/**
 * A port that cannot be had ends `aiprod serve` and `aiprod worker --metrics-port` with exit 1 and a
 * message naming the address and the setting, instead of leaving a process that serves nothing
 * (in a container: a hang the orchestrator never restarts).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { startCli, tempDir } from './processes.js';

let taken: Server;
let port: number;

before(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as { port: number }).port;
});
after(() => {
  taken.close();
});

for (const [name, args, setting] of [
  ['aiprod serve', ['serve', '--port', 'PORT'], /set PORT or --port/],
  ['aiprod worker --metrics-port', ['worker', '--metrics-port', 'PORT'], /set WORKER_METRICS_PORT or --metrics-port/],
] as const) {
  test(`${name} on a port in use exits 1 and says so`, async () => {
    const cli = startCli(args.map((a) => (a === 'PORT' ? String(port) : a)), { AIPROD_DATA_DIR: tempDir('aiprod-listen-'), HOST: '127.0.0.1', ADMIN_API_KEY: '', WORKER_CONCURRENCY: '1' });
    const exit = await cli.exitWithin(120_000);
    if (!exit) cli.killGroup('SIGKILL');
    assert.ok(exit, `still running 120 s after failing to listen\n${cli.output()}`);
    assert.equal(exit.code, 1, cli.output());
    assert.match(cli.output(), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}.*it is in use by another process`));
    assert.match(cli.output(), setting);
  });
}
