/**
 * Moved to `lib/search/shard_symbols.ts` (exported as `@loom/loom/search`), where both
 * the worker and the router import it.
 *
 * @deprecated Import from `@loom/loom/search`; this re-export goes in the
 * next release.
 *
 * @module
 */

export * from "../search/shard_symbols.ts";
