import { DEFAULT_FEATURE_FLAGS_VARIABLE, type FeatureFlagsConfig } from '@tracemend/contracts';

type FlagValue = boolean | string | number;

/**
 * The environment a replay runs with: `env` plus the recorded feature flags written where the service's
 * flag client reads them (the catalog's `featureFlags`; by default `FEATURE_FLAGS` as one JSON object).
 * A variable the recorded environment already carries is left as recorded.
 */
export function flagEnvironment(
  environment: { readonly featureFlags: Readonly<Record<string, FlagValue>>; readonly env: Readonly<Record<string, string>> },
  setting?: FeatureFlagsConfig,
): Record<string, string> {
  const env = { ...environment.env };
  const flags = Object.entries(environment.featureFlags);
  const variable = setting?.env ?? DEFAULT_FEATURE_FLAGS_VARIABLE;
  if (flags.length === 0 || env[variable] !== undefined) return env;
  if (setting?.format === 'pairs') {
    const word = (value: FlagValue): string => (value === true ? setting.on : value === false ? setting.off : String(value));
    env[variable] = flags.map(([key, value]) => `${key}=${word(value)}`).join(setting.separator);
  } else {
    env[variable] = JSON.stringify(Object.fromEntries(flags));
  }
  return env;
}
