/**
 * The runtime globals core/ may use: the ones every place it runs provides
 * (browsers, workers and Node ≥ 20), declared with only the members core/
 * calls. tsconfig.core.json gives core/ the language and nothing more, so a
 * module that reaches for `window`, `document`, `process`, `Buffer` or a
 * `node:` import fails the typecheck; anything added here must exist in all
 * of those runtimes. Only the core project includes this file: the others
 * get the full declarations from their own libs.
 */

declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare function atob(data: string): string;
