export * from "./split.ts";
export * from "./plain_cbor.ts";
export * from "./arbitraries.ts";
export * from "./memory_pair.ts";
export * from "./fake_clock.ts";
