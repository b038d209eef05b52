// How a member process ends, for its supervisor (Kubernetes restarts the container on any exit under restartPolicy
// Always; a systemd unit or a script can tell the cases apart).

/** A clean shutdown (SIGTERM/SIGINT). */
export const EXIT_OK = 0;
/** A fatal error (disk failure, broken invariant, failed start): the WAL is the recovery point. */
export const EXIT_FATAL = 1;
/** Invalid configuration: fix the flags; restarting unchanged fails the same way. */
export const EXIT_CONFIG = 2;
/**
 * The member stopped itself to be started again with the same flags (after ForceNewCluster: the next start rewrites
 * its log as the marker in the data directory asks). 75 is EX_TEMPFAIL of sysexits.h: "try again later".
 */
export const EXIT_RESTART = 75;
