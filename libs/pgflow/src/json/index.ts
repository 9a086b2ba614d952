export type { JsonObject, JsonValue } from './json-value.ts';
export { assertJson, toJsonValue, toStepOutputJson } from './to-json-value.ts';
