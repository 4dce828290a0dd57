/** Starts the server on PORT (default 8080) and prints the URL to open. */
import { buildApp } from './app.ts';

export async function startServer(port = Number(process.env.PORT ?? 8080), host = process.env.HOST ?? '127.0.0.1') {
  let app;
  try {
    app = await buildApp();
  } catch (err) {
    // Bad settings or an unreachable database: say so plainly and stop.
    console.error(`Wildsight could not start: ${(err as Error).message}`);
    process.exit(1);
  }
  const close = (signal: string) => {
    app.log.info({ signal }, 'shutting down');
    // A signal handler cannot be awaited: exit 0 once the server and its store closed, 1 if closing failed.
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`Wildsight did not close cleanly: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  await app.listen({ port, host });
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  console.log(`Wildsight is running at http://${shown}:${app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : port}/`);
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) await startServer();
