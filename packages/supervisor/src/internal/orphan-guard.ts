/**
 * Preloaded (`--import`) into every service a supervisor starts in its own process group. Such a
 * process does not get the terminal's Ctrl-C, and would outlive a supervisor killed with SIGKILL;
 * when its parent is gone (it was re-parented), it sends itself SIGTERM, which drains it normally.
 */
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  process.kill(process.pid, 'SIGTERM');
}, 1000);
timer.unref();

export {};
