// A host test leaves namespaces, veth pairs and sidecar processes behind unless it tears them down, and
// Ctrl-C or a CI timeout skips node:test's after(): the same cleanup also runs on SIGINT, SIGTERM and exit.

export class CleanupHooks {
  private readonly onSignal = (sig: NodeJS.Signals): void => {
    this.cleanup();
    // The shell's convention for "killed by this signal".
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };

  /** `cleanup` must be synchronous (it may run in an 'exit' handler) and safe to run more than once. */
  constructor(private readonly cleanup: () => void) {}

  /** From before(): from now on an interrupted run still cleans up. */
  install(): void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    process.on('exit', this.cleanup);
  }

  /** From after(): cleans up now and removes the hooks. */
  release(): void {
    this.cleanup();
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    process.off('exit', this.cleanup);
  }
}
