// Package pgconf turns a compute size into the PostgreSQL settings Grove
// writes into every compute's data directory (grove.conf, included from
// postgresql.conf). It is pure: no files, no processes.
//
// Sizing follows Neon: a Compute Unit (CU) is about one vCPU and 4 GiB of RAM
// (configurable for small hosts), and max_connections follows Neon's table
// (0.25 CU → 104 … 8 CU → 3357, 4000 from 9 CU). Memory settings are scaled
// to the CU's memory but capped so that one small host can keep many idle
// computes: shared_buffers is sized at the minimum CU (changing it needs a
// restart, and an autoscaled compute restarts at its minimum), the
// per-query settings at the maximum CU (they reload without a restart).
package pgconf

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Host describes the machine computes share. Zero fields mean unknown (no cap).
type Host struct {
	MemoryBytes int64
	CPUs        int
}

// DefaultCUMemoryBytes is the memory of one CU when the operator sets none (Neon: 4 GiB).
const DefaultCUMemoryBytes int64 = 4 << 30

// SuperuserReserved is the number of connection slots kept for the platform's
// superuser (Neon reserves 7: a 0.25 CU compute has 97 usable connections).
const SuperuserReserved = 7

const (
	kB = int64(1) << 10
	mB = int64(1) << 20
	gB = int64(1) << 30
)

// Settings are the values Grove controls in grove.conf. Memory values are bytes.
type Settings struct {
	MinCU, MaxCU float64

	MaxConnections               int
	SuperuserReservedConnections int
	MaxWorkerProcesses           int
	MaxParallelWorkers           int
	MaxParallelWorkersPerGather  int
	MaxWALSenders                int
	MaxReplicationSlots          int
	MaxPreparedTransactions      int
	MaxLocksPerTransaction       int

	SharedBuffers      int64
	EffectiveCacheSize int64
	WorkMem            int64
	MaintenanceWorkMem int64
	MinWALSize         int64
	MaxWALSize         int64
	WALKeepSize        int64

	// ArchiveMode turns WAL archiving on, every ArchiveTimeoutSeconds, into
	// ArchiveDir through Postgres' basic_archive module: the compute
	// manager sets them for read-write computes when it has an archiver
	// (internal/history). ArchiveDir is relative to the data directory (a
	// link the manager makes), so that no setting a tenant can read names a
	// host path, and no shell command runs.
	ArchiveMode           bool
	ArchiveDir            string
	ArchiveTimeoutSeconds int

	// Standby makes a hot standby (a read replica): the compute manager
	// sets it with PrimaryConnInfo (streaming from the primary's socket,
	// empty when the branch has no read-write compute) and RestoreCommand
	// (segments from the branch's WAL archive, empty without one; a path
	// relative to the data directory, as ArchiveDir). The
	// standby parameters are rendered only for a standby.
	Standby         bool
	PrimaryConnInfo string
	RestoreCommand  string
}

// maxConnTable is Neon's max_connections by CU (neon-semantics §8.3).
var maxConnTable = []struct {
	cu    float64
	conns int
}{
	{0.25, 104}, {0.5, 209}, {1, 419}, {2, 839}, {3, 1258}, {4, 1678},
	{5, 2098}, {6, 2517}, {7, 2937}, {8, 3357}, {9, 4000},
}

// MaxConnectionsCap is Neon's upper bound on max_connections.
const MaxConnectionsCap = 4000

// MaxConnections is Neon's max_connections for a fixed size: the table's
// value, linear between its rows for sizes it does not list, 4000 from 9 CU.
func MaxConnections(cu float64) int {
	if cu <= maxConnTable[0].cu {
		return maxConnTable[0].conns
	}
	for i := 1; i < len(maxConnTable); i++ {
		lo, hi := maxConnTable[i-1], maxConnTable[i]
		if cu <= hi.cu {
			f := (cu - lo.cu) / (hi.cu - lo.cu)
			return lo.conns + int(math.Floor(f*float64(hi.conns-lo.conns)))
		}
	}
	return MaxConnectionsCap
}

// Size returns the settings of a compute autoscaled between minCU and maxCU
// (equal for a fixed size) on host, one CU having cuMemoryBytes of RAM
// (0 → DefaultCUMemoryBytes).
//
// max_connections: Neon's value for the maximum size, but no more than the
// value for 8 × the minimum size. A connection costs memory whatever the
// current size, so the minimum bounds how many the compute can hold (Neon:
// "depends on both min and max"); 8 is Neon's own bound on max/min for large
// autoscaling ranges. Examples: 0.25–2 → 839; 0.25–4 → 839; 1–4 → 1678.
//
// Memory (mem(cu) = cu × cuMemoryBytes, capped by the host's memory):
//   - shared_buffers = mem(min)/16 in [16 MB, 8 GB] and ≤ host/64: 64 MB at
//     0.25 CU, so an idle compute stays small; pages are touched only when used.
//   - effective_cache_size = 3/4 mem(max); work_mem = mem(max)/256 in
//     [4 MB, 256 MB]; maintenance_work_mem = mem(max)/16 in [64 MB, 2 GB];
//     max_wal_size = mem(max)/16 in [64 MB, 1 GB]: it bounds the WAL since
//     the last checkpoint, which every clone of a running compute (a branch,
//     a snapshot) and every start after a crash replays (~150 MB/s), so
//     checkpoints come every ~0.5 max_wal_size of writes, spread over it.
//
// CPU: max_parallel_workers = ceil(max CU) in [2, host CPUs]; per gather
// half of that; max_worker_processes = 8 + ceil(max CU).
func Size(minCU, maxCU float64, host Host, cuMemoryBytes int64) Settings {
	if minCU <= 0 {
		minCU = 0.25
	}
	if maxCU < minCU {
		maxCU = minCU
	}
	if cuMemoryBytes <= 0 {
		cuMemoryBytes = DefaultCUMemoryBytes
	}
	mem := func(cu float64) int64 {
		m := int64(cu * float64(cuMemoryBytes))
		if host.MemoryBytes > 0 && m > host.MemoryBytes {
			m = host.MemoryBytes
		}
		return m
	}
	conns := min(MaxConnections(maxCU), MaxConnections(8*minCU))

	sb := clamp(mem(minCU)/16, 16*mB, 8*gB)
	if host.MemoryBytes > 0 {
		sb = max(min(sb, host.MemoryBytes/64), 16*mB)
	}
	vcpus := int(math.Ceil(maxCU))
	pw := max(vcpus, 2)
	if host.CPUs > 0 {
		pw = min(pw, max(host.CPUs, 2))
	}
	return Settings{
		MinCU:                        minCU,
		MaxCU:                        maxCU,
		MaxConnections:               conns,
		SuperuserReservedConnections: SuperuserReserved,
		MaxWorkerProcesses:           8 + vcpus,
		MaxParallelWorkers:           pw,
		MaxParallelWorkersPerGather:  max(pw/2, 1),
		MaxWALSenders:                10,
		MaxReplicationSlots:          10,
		MaxPreparedTransactions:      0, // Postgres' defaults
		MaxLocksPerTransaction:       64,
		SharedBuffers:                roundDown(sb, 8*kB),
		EffectiveCacheSize:           roundDown(mem(maxCU)*3/4, mB),
		WorkMem:                      roundDown(clamp(mem(maxCU)/256, 4*mB, 256*mB), kB),
		MaintenanceWorkMem:           roundDown(clamp(mem(maxCU)/16, 64*mB, 2*gB), mB),
		MinWALSize:                   32 * mB,
		MaxWALSize:                   roundDown(clamp(mem(maxCU)/16, 64*mB, gB), mB),
		WALKeepSize:                  0, // WAL older than the last checkpoint is not kept: a suspended clone keeps no WAL of its own
	}
}

// ReplayLimits are the restart-only settings that size the shared
// structures a hot standby fills while it replays WAL: a server replaying
// WAL needs each at least as high as the server that wrote it had, which
// the control file and the WAL's parameter-change records tell.
type ReplayLimits struct {
	MaxConnections          int
	MaxWorkerProcesses      int
	MaxWALSenders           int
	MaxPreparedTransactions int
	MaxLocksPerTransaction  int
}

// ReplayLimits returns s's.
func (s Settings) ReplayLimits() ReplayLimits {
	return ReplayLimits{s.MaxConnections, s.MaxWorkerProcesses, s.MaxWALSenders, s.MaxPreparedTransactions, s.MaxLocksPerTransaction}
}

// Raise sets each of s's replay limits to at least l's.
func (s *Settings) Raise(l ReplayLimits) {
	m := s.ReplayLimits().Max(l)
	s.MaxConnections, s.MaxWorkerProcesses, s.MaxWALSenders = m.MaxConnections, m.MaxWorkerProcesses, m.MaxWALSenders
	s.MaxPreparedTransactions, s.MaxLocksPerTransaction = m.MaxPreparedTransactions, m.MaxLocksPerTransaction
}

// Max returns the larger of l and o, limit by limit.
func (l ReplayLimits) Max(o ReplayLimits) ReplayLimits {
	return ReplayLimits{
		MaxConnections:          max(l.MaxConnections, o.MaxConnections),
		MaxWorkerProcesses:      max(l.MaxWorkerProcesses, o.MaxWorkerProcesses),
		MaxWALSenders:           max(l.MaxWALSenders, o.MaxWALSenders),
		MaxPreparedTransactions: max(l.MaxPreparedTransactions, o.MaxPreparedTransactions),
		MaxLocksPerTransaction:  max(l.MaxLocksPerTransaction, o.MaxLocksPerTransaction),
	}
}

// Covers reports whether every limit of l is at least o's.
func (l ReplayLimits) Covers(o ReplayLimits) bool { return l.Max(o) == l }

// Set sets the limit named by its Postgres parameter; it reports false for
// any other name.
func (l *ReplayLimits) Set(name string, v int) bool {
	switch name {
	case "max_connections":
		l.MaxConnections = v
	case "max_worker_processes":
		l.MaxWorkerProcesses = v
	case "max_wal_senders":
		l.MaxWALSenders = v
	case "max_prepared_transactions":
		l.MaxPreparedTransactions = v
	case "max_locks_per_transaction":
		l.MaxLocksPerTransaction = v
	default:
		return false
	}
	return true
}

func clamp(v, lo, hi int64) int64 { return max(lo, min(v, hi)) }

func roundDown(v, unit int64) int64 { return v / unit * unit }

// Param is one line of grove.conf.
type Param struct {
	Name, Value string
	// Restart is true when Postgres reads the parameter only at server start.
	Restart bool
}

// Params lists the settings in the order Render writes them.
func (s Settings) Params() []Param {
	onOff := func(b bool) string {
		if b {
			return "on"
		}
		return "off"
	}
	archiveLib := ""
	if s.ArchiveMode {
		archiveLib = "basic_archive"
	}
	archiveTimeout := s.ArchiveTimeoutSeconds
	ps := []Param{
		// Connections: only the Unix socket, only the Postgres OS user (and root).
		{"listen_addresses", "", true},
		{"unix_socket_permissions", "0700", true},
		{"max_connections", strconv.Itoa(s.MaxConnections), true},
		{"superuser_reserved_connections", strconv.Itoa(s.SuperuserReservedConnections), true},
		{"password_encryption", "scram-sha-256", false},
		// Memory.
		{"shared_buffers", size(s.SharedBuffers), true},
		{"huge_pages", "off", true},
		{"shared_memory_type", "mmap", true},
		{"dynamic_shared_memory_type", "posix", true},
		{"effective_cache_size", size(s.EffectiveCacheSize), false},
		{"work_mem", size(s.WorkMem), false},
		{"maintenance_work_mem", size(s.MaintenanceWorkMem), false},
		// CPU.
		{"max_worker_processes", strconv.Itoa(s.MaxWorkerProcesses), true},
		{"max_parallel_workers", strconv.Itoa(s.MaxParallelWorkers), false},
		{"max_parallel_workers_per_gather", strconv.Itoa(s.MaxParallelWorkersPerGather), false},
		// WAL and durability.
		{"fsync", "on", false},
		// A branch or a restore starts on a crash-consistent clone: one
		// syncfs of the volume, not an fsync of every file, before redo.
		{"recovery_init_sync_method", "syncfs", false},
		{"synchronous_commit", "on", false},
		{"full_page_writes", "on", false},
		{"wal_level", "replica", true},
		{"wal_log_hints", "on", true},
		{"max_wal_senders", strconv.Itoa(s.MaxWALSenders), true},
		{"max_replication_slots", strconv.Itoa(s.MaxReplicationSlots), true},
		{"max_prepared_transactions", strconv.Itoa(s.MaxPreparedTransactions), true},
		{"max_locks_per_transaction", strconv.Itoa(s.MaxLocksPerTransaction), true},
		{"wal_keep_size", size(s.WALKeepSize), false},
		// Volumes are copy-on-write (btrfs, reflink): zero-filling new WAL
		// segments and recycling old ones would only make every clone's
		// WAL exclusive disk.
		{"wal_init_zero", "off", false},
		// Full-page images dominate the WAL of a fresh or lightly used
		// compute; compressing them keeps each clone's exclusive disk small.
		{"wal_compression", "on", false},
		{"wal_recycle", "off", false},
		// A backend writing a bulk load evicts its own pages; asking the
		// kernel to write them back as it goes (as the checkpointer and
		// the background writer do by default) leaves the next checkpoint,
		// which a branch of a busy compute waits for, little to sync.
		{"backend_flush_after", "256kB", false},
		{"min_wal_size", size(s.MinWALSize), false},
		{"max_wal_size", size(s.MaxWALSize), false},
		{"archive_mode", onOff(s.ArchiveMode), true},
		{"archive_library", archiveLib, false},
		{"basic_archive.archive_directory", s.ArchiveDir, false},
		{"archive_timeout", strconv.Itoa(archiveTimeout), false},
		{"hot_standby", "on", true},
		// The last commit's time tells whether a snapshot "at now" may be
		// a plain storage snapshot of the head (platform.quietSince).
		{"track_commit_timestamp", "on", true},
		// Logging: stderr, collected by the compute manager.
		{"logging_collector", "off", true},
		{"log_destination", "stderr", false},
		{"log_line_prefix", "%m [%p] %q%u@%d ", false},
		{"log_timezone", "UTC", false},
		{"timezone", "UTC", false},
	}
	if s.Standby {
		ps = append(ps,
			// Streaming while the primary runs; the archive covers what the
			// standby missed while it could not connect (no replication
			// slot holds WAL for it on the primary).
			Param{"primary_conninfo", s.PrimaryConnInfo, false},
			Param{"restore_command", s.RestoreCommand, false},
			Param{"recovery_target_timeline", "latest", true},
			Param{"hot_standby_feedback", "off", false},
			Param{"max_standby_streaming_delay", "30s", false},
			Param{"max_standby_archive_delay", "30s", false},
		)
	}
	return ps
}

// size renders bytes in the largest unit Postgres accepts that divides them exactly.
func size(b int64) string {
	switch {
	case b == 0:
		return "0"
	case b%gB == 0:
		return strconv.FormatInt(b/gB, 10) + "GB"
	case b%mB == 0:
		return strconv.FormatInt(b/mB, 10) + "MB"
	default:
		return strconv.FormatInt(b/kB, 10) + "kB"
	}
}

// quote renders a configuration-file string literal.
func quote(v string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), "'", "''") + "'"
}

// Render returns grove.conf: every parameter as name = 'value', one a line.
func Render(s Settings) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Written by Grove for a compute of %s–%s CU; do not edit.\n", cu(s.MinCU), cu(s.MaxCU))
	b.WriteString("# Parameters marked (restart) take effect at the next start, the others on reload.\n")
	for _, p := range s.Params() {
		mark := ""
		if p.Restart {
			mark = " # (restart)"
		}
		fmt.Fprintf(&b, "%s = %s%s\n", p.Name, quote(p.Value), mark)
	}
	return b.Bytes()
}

func cu(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// NeedsRestart reports whether moving a running server from old to new
// settings needs a restart; otherwise a reload (SIGHUP) is enough.
func NeedsRestart(old, new Settings) bool {
	a, b := old.Params(), new.Params()
	if len(a) != len(b) {
		return true
	}
	for i := range a {
		if a[i].Restart && (a[i].Name != b[i].Name || a[i].Value != b[i].Value) {
			return true
		}
	}
	return false
}

// Equal reports whether two settings render the same grove.conf.
func Equal(a, b Settings) bool { return bytes.Equal(Render(a), Render(b)) }
