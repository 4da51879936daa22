// docs/config.md is generated from OPTION_DOCS so the page and the loader cannot drift apart.
import { CONFIG_KEYS, OPTIONS, OPTION_DOCS, type OptionMeta } from './options.js';

const GROUPS: readonly OptionMeta['group'][] = [
  'Identity and addresses',
  'Cluster',
  'Placement',
  'HTTP',
  'App health',
  'Timing',
  'Apply',
  'Protocol overrides',
  'Other',
];

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderConfigDocs(): string {
  const lines: string[] = [
    '# Configuration',
    '',
    '<!-- Generated from src/config/options.ts by `node --import tsx src/config-docs.ts`; do not edit by hand. -->',
    '',
    'Every option can be given as a command-line flag, a `SWIMRING_*` environment variable, or a key in',
    'a JSON config file (`--config FILE` or `SWIMRING_CONFIG`). The file takes each option under its flag',
    'name without the dashes, e.g. `{"gossip-addr": "0.0.0.0:7946", "seeds": ["swimring.default.svc"]}`;',
    '`seeds` may be a JSON array and `tags` a JSON object there.',
    '',
    'Precedence: **flags > environment > config file > defaults**. Flags take `--name value` or',
    '`--name=value`; a flag given twice takes the last value; `--bootstrap` alone means true and',
    '`--no-bootstrap` false. An empty environment variable counts as unset; for an option without a',
    'default, an empty flag value (or `null` in the file) clears a lower layer\'s value. Other',
    '`SWIMRING_*` variables are ignored (Kubernetes sets `SWIMRING_SERVICE_HOST` and the like for a',
    'Service named swimring).',
    '',
    'Every problem is reported at once at start, each naming the option, the value and where it came from;',
    'unknown flags and unknown config file keys are problems too. The process then exits without starting.',
    '',
    'Addresses are `host:port` with IPv4, a DNS name, or IPv6 in brackets (`[::1]:7946`). Listener ports',
    'may be 0 (a free port). The gRPC, app API and ops listeners must not share a port.',
    '',
  ];
  for (const group of GROUPS) {
    lines.push(`## ${group}`, '', '| flag | environment | default | description |', '|---|---|---|---|');
    CONFIG_KEYS.forEach((key, i) => {
      if (OPTIONS[key].group !== group) return;
      const doc = OPTION_DOCS[i];
      if (doc === undefined) return;
      const flag = doc.flag === '' ? '(none)' : `\`${doc.flag}\``;
      lines.push(`| ${flag} | \`${doc.env}\` | ${cell(doc.default)} | ${cell(doc.description)} |`);
    });
    lines.push('');
    if (group === 'Protocol overrides') {
      lines.push(
        'Each protocol option overrides one setting of the chosen `--profile`; the combination is validated',
        'as a whole (for example the probe timeout must stay below the probe interval). The descriptions and',
        'ranges above come from the SWIM core\'s one table of settings (src/core/config.ts).',
        '',
      );
    }
  }
  return lines.join('\n');
}
