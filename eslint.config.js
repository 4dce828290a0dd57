// ESLint (npm run lint): typescript-eslint with type information, so it
// catches what tsc does not: promises nobody awaits or handles
// (no-floating-promises), promises handed where a plain callback is expected
// (no-misused-promises), and unused code. projectService gives each file the
// tsconfig project it belongs to (tsconfig.json's references), the same split
// `npm run typecheck` uses.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Built, recorded or static, not written here (the same list as .prettierignore).
  globalIgnores(['dist/', 'models/registry/', 'bench/results/', 'reports/', 'test-results/', 'playwright-report/', '.cache/', 'data/', '.scratch/', 'public/', '**/generated/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `_name` marks a parameter a signature needs but the body does not.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Fastify plugins, routes and hooks are async functions by contract
      // (an async plugin is one Fastify need not pass `done`), awaited or not.
      '@typescript-eslint/require-await': 'off',
      // Kysely's expression builder is used destructured, `({ exists, selectFrom }) =>`,
      // as its documentation does; every finding of this rule was that.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Tests, benchmarks and CLI glue read JSON (reply bodies, result files,
    // child output) as untyped values on purpose: a wrong shape fails the
    // assertion or the run right there, and typing every body would only
    // restate the schema under test.
    files: ['**/*.test.ts', 'e2e/**', 'server/testing/**', 'bench/**', 'scripts/**'],
    rules: {
      // Playwright wants its fixtures destructured even when a test uses none: `async ({}, testInfo) =>`.
      'no-empty-pattern': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // A migration must not depend on today's table types (it runs against the
    // schema as it was): Kysely's own advice is Kysely<any> there.
    files: ['server/storage/migrations/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-unsafe-argument': 'off' },
  },
  {
    files: ['src/**/*.tsx', 'src/**/*.ts'],
    extends: [reactHooks.configs.flat.recommended],
    rules: {
      // Its findings here were loads started by an effect (admin pages) and an
      // object URL an effect creates and revokes: outside state, which is what
      // effects are for. The rule aims at state derived from props.
      'react-hooks/set-state-in-effect': 'off',
    },
  },
  {
    // This file and scripts/test-summary.mjs: plain JavaScript in Node, no tsconfig project.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
