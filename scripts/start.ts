/**
 * npm start — builds whatever is missing (models from ../shared, the app
 * bundle), then serves the app on PORT (default 8080) and prints the URL.
 */
import { ensureApp } from '../node/ensure-built.ts';
import { startServer } from '../server/main.ts';

ensureApp('the server');
await startServer();
