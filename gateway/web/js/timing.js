/** Timing helpers for pages that react to bursts of events. */

/** Run fn at most once per waitMs, trailing (for bursts of events). */
export function coalesce(fn, waitMs = 250) {
  let timer = null;
  const run = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, waitMs);
  };
  run.cancel = () => clearTimeout(timer);
  return run;
}
