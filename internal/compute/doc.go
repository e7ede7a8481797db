// Package compute runs every compute: one PostgreSQL server per endpoint,
// on a volume (a data directory) made by the storage driver, listening only
// on a Unix socket at <RunDir>/<id>/.s.PGSQL.5432, running as the
// unprivileged Postgres OS user, never as root.
//
// # Lifecycle
//
// EnsureTemplates makes one template volume per installed major ("tmpl-17":
// initdb with 1 MB WAL segments, checksums, an empty database grove_spare,
// and postgresql.conf including grove.conf). Every compute volume is a clone
// of a template.
//
// Take hands out a warm instance: Run keeps warm servers per major running
// on fresh template clones, PoolSize when idle and, under demand, as many as
// the major's recent Takes, up to PoolMax for all majors (demand.go); Take
// renames one to the endpoint id (its socket folder is renamed under the
// running server), applies the endpoint's size (a reload, or a restart when
// a restart-only setting changes), and Run refills the pool. Refills take
// the size of the last Take of that major, so a platform that creates
// projects of one size gets warm instances needing no restart; Take
// prefers a warm instance already of the wanted size. With
// an empty pool Take clones the template and starts
// a server itself (cold path). The caller records the instance's VolumeID.
//
// Start (a wake) starts a server on an existing volume; Suspend runs
// pg_switch_wal() (skipped on a standby) and stops it with a fast shutdown.
// A suspended compute is forgotten: Get no longer returns it, and the next
// Start writes grove.conf again, so it restarts with its current size.
//
// Idle computes: the proxy reports client connections with ConnOpened and
// ConnClosed; Run suspends a compute that had none for its SuspendTimeout
// (0 → Config.DefaultSuspendTimeout, 300 s; negative → never). Past
// Config.MaxActive running computes, Run also suspends those without
// connections that have been idle longest, so that thousands of projects
// cannot exhaust the host's memory; the next connection wakes them.
//
// Crashes: each running compute has a supervisor goroutine. An exit that
// Suspend, a resize or Close did not ask for is a crash: the supervisor
// kills what is left of the server's process group (orphaned backends hold
// shared memory), waits the back-off of the RestartPolicy and starts the
// server again, retrying while the old processes linger. Past
// RestartPolicy.MaxCrashes crashes within the window the compute is marked
// StateFailed with the cause; a later Start tries again.
//
// Reconcile, at start-up before Run, adopts the postmasters an earlier Grove
// left running that are what their endpoint would run now, stops the others
// (both in the background, adopt.go) and deletes volumes nobody records.
// Close stops every server and deletes the untaken pool volumes; Leave (an
// upgrade) leaves the running computes for the next Grove to adopt.
//
// Archiving: with Config.Archive set (internal/history), every read-write
// compute, warm instances included (archive_mode needs a restart, and a
// warm instance's volume stays its own when taken), runs with archive_mode
// on, the archiver's archive_command for its volume and archive_timeout
// Config.ArchiveTimeout; before each start of its server the archiver's
// Prepare makes the volume's archive and, at its first start, records where
// its history begins. Reconcile leaves the archiver's volumes alone.
//
// CloneRunning copies a running compute's volume consistently: a snapshot
// with an atomic driver (btrfs), else Postgres' online backup API around a
// plain copy, with a temporary replication slot to keep the WAL.
//
// # Concurrency
//
// All methods are safe for concurrent use. Start is single-flight per id:
// concurrent callers share one start, which outlives a caller that gives up
// but not the manager. The manager's lock (Manager.mu) guards the id and
// pool maps and is taken before an instance's lock (Instance.mu), never
// after. Locks are never held across a process start or stop. The manager
// owns its goroutines: supervisors end at Suspend or Close, Run's pool fills
// and idle suspends end before Run returns, and Close waits for all of them.
// Lifecycle events go to the logger and to the handlers of Subscribe.
//
// # Gaps
//
// Read-only computes (hot standbys) are not started yet: ReadOnly only
// skips pg_switch_wal. Per-volume log files are not rotated.
//
// # Sizes and cgroups
//
// With Config.Cgroups, each server runs in a cgroup (internal/cgroup) with
// the CPU quota and memory limit of its current size; SetCU changes the
// size live (limits, and the reloadable settings by a reload), as the
// autoscaler (internal/autoscale) does. See cgroups.go.
package compute
