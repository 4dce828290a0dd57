/**
 * Imported first by the benchmarks that drive the built app. ES modules run
 * their imports in order, so this builds the models and the app when they
 * are missing (node/ensure-built.ts) before any module imported after it
 * reads ../shared, models/registry or dist/ at load time.
 */
import { ensureApp } from '../node/ensure-built.ts';

ensureApp('the benchmark');
