export * from "./split.ts";
export * from "./plain_cbor.ts";
export * from "./arbitraries.ts";
