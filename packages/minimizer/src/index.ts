export { ddmin, reduce, split } from './ddmin';
export type { DdminOptions, DdminResult } from './ddmin';
export { BudgetExhausted, CachedJudge, DEFAULT_MAX_TESTS } from './judge';
export type { Judge, JudgeStats } from './judge';
export { canonicalJson, contentHash, isJsonObject } from './canonical';
export type { JsonObject, JsonValue } from './canonical';
export { formatPath, getAt, minimizeJson, minimizeRecord, pathsAtDepth, setAt } from './hierarchical';
export type { JsonPath, MinimizeJsonOptions, MinimizeJsonResult, MinimizeOptions } from './hierarchical';
