// The shape of one option's entry in the option tables (options.ts and the options-*.ts parts).

/** What a default may depend on: the process environment and the machine. */
export interface DefaultContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly hostname: () => string;
  /** The first non-loopback IPv4 address of this machine, if any. */
  readonly firstIPv4: () => string | undefined;
}

export interface OptionMeta {
  readonly description: string;
  /** Raw default, parsed like user input; undefined = none. */
  readonly default?: string | ((ctx: DefaultContext) => string);
  /** The default as the docs show it. */
  readonly defaultDoc: string;
  /** False for secrets: a flag would show in `ps` and shell history. */
  readonly flag?: boolean;
  /** False for options that cannot sit in the config file (the path of the file itself). */
  readonly file?: boolean;
  /** Redacted in problem messages. */
  readonly secret?: boolean;
  /** Heading the option is listed under in docs/config.md. */
  readonly group: 'Identity and addresses' | 'Cluster' | 'Placement' | 'App health' | 'Timing' | 'HTTP' | 'Apply' | 'Protocol overrides' | 'Other';
}
