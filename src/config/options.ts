// What each option is called in each source, its default and its description: the single source for
// the loader, the error messages and docs/config.md.
import { PROFILES, SETTINGS, SETTING_NAMES, type SettingName } from '../core/config.js';
import { flagOf, PROFILE_NAMES, withFlagNames, type ConfigKey } from './schema.js';
import type { OptionMeta } from './option-meta.js';
import { CLAIM_OPTIONS } from './options-claims.js';
import { EDGE_OPTIONS } from './options-edge.js';
import { MEMBER_OPTIONS } from './options-member.js';

export type { DefaultContext, OptionMeta } from './option-meta.js';

/** "lan 1000, local 200, wan 5000", or the one value when every profile agrees. */
function profileDefaults(setting: SettingName): string {
  const values = PROFILE_NAMES.map((profile) => PROFILES[profile][setting]);
  if (values.every((v) => v === values[0])) return `profile (${values[0]})`;
  return `profile (${PROFILE_NAMES.map((profile, i) => `${profile} ${values[i]}`).join(', ')})`;
}

/** The protocol options: described and bounded by the core's SETTINGS, defaults from its profiles. */
function protocolOptions(): Record<SettingName, OptionMeta> {
  const entries = SETTING_NAMES.map((setting): [SettingName, OptionMeta] => [
    setting,
    {
      group: 'Protocol overrides',
      description: `${withFlagNames(SETTINGS[setting].description)} Range ${SETTINGS[setting].min} to ${SETTINGS[setting].max}.`,
      defaultDoc: profileDefaults(setting),
    },
  ]);
  return Object.fromEntries(entries) as Record<SettingName, OptionMeta>;
}

/** Every option, in the order docs/config.md lists them within each group. */
export const OPTIONS: Readonly<Record<ConfigKey, OptionMeta>> = {
  ...MEMBER_OPTIONS,
  ...EDGE_OPTIONS,
  ...protocolOptions(),
  ...CLAIM_OPTIONS,
};

export const CONFIG_KEYS = Object.keys(OPTIONS) as ConfigKey[];

/** The environment variable of an option, e.g. SWIMRING_GOSSIP_ADDR; SWIMRING_CONFIG for the file. */
export function envOf(key: ConfigKey): string {
  const base = key === 'configFile' ? 'config' : key;
  return `SWIMRING_${base.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** The flag of an option, e.g. --gossip-addr; --config for the file. */
export function flagName(key: ConfigKey): string {
  return key === 'configFile' ? '--config' : flagOf(key);
}

/** The config file key of an option: its flag without the dashes. */
export function fileKeyOf(key: ConfigKey): string {
  return flagName(key).slice(2);
}

export interface OptionDoc {
  readonly flag: string;
  readonly env: string;
  readonly default: string;
  readonly description: string;
}

export const OPTION_DOCS: readonly OptionDoc[] = CONFIG_KEYS.map((key) => {
  const meta = OPTIONS[key];
  return {
    flag: meta.flag === false ? '' : flagName(key),
    env: envOf(key),
    default: meta.defaultDoc,
    description: meta.description,
  };
});
