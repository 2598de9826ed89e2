/**
 * Stops a benchmark cleanly: on SIGINT/SIGTERM (exit 130) or when its overall deadline passes
 * (exit 2), `cleanup` runs first, so only the processes the program started are stopped, by PID.
 * Returns the function that disarms the deadline once the program finished in time.
 */
export function guardRun(cleanup: () => Promise<void>, budgetMs: number): () => void {
  const onSignal = (sig: NodeJS.Signals): void => {
    console.error(`\n${sig}: stopping what this program started...`);
    void cleanup().then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    console.error(`overall deadline of ${Math.round(budgetMs / 1000)} s passed; stopping`);
    void cleanup().then(() => process.exit(2));
  }, budgetMs);
  watchdog.unref();
  return () => clearTimeout(watchdog);
}
