export { lineKey, parseLineKey } from './coverage';
export { computeSpectra, dstar, FORMULAS, ochiai, suspiciousness, tarantula } from './spectrum';
export type { Formula, Run, Spectrum } from './spectrum';
export { contextOf, localize, rankSuspects } from './rank';
export type { RankSuspectsInput, StackFrameRef } from './rank';
export { createLocalizationActivities } from './activities';
export type { CollectedRuns, LocalizationDeps } from './activities';
