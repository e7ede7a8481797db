// Package history keeps each volume's past: its WAL archive, automatic
// snapshots taken as it is written, and the retention that prunes both; and
// it materializes a volume's state at a past moment (point-in-time recovery)
// into a new volume.
//
// # Layout
//
// Everything about volume V lives in <Dir>/V/: wal/ holds the segments its
// computes archived (owned by the Postgres user, written by the
// archive_command), index.json lists its automatic snapshots (written
// atomically by Grove). A snapshot is a read-only volume "hist-<hex>" made by
// the storage driver. The history of a volume starts at its first snapshot:
// Prepare takes it before the volume's first start (the compute manager calls
// it before every start of a read-write compute), Track takes it at once, and
// Materialize takes it for the volume it makes.
//
// Each volume's history is its own: a branch cloned at its parent's head
// continues the parent's timeline from the same LSN, so segment names collide
// with different contents after the branch point; an ancestor's archive is
// never read.
//
// # Consistency
//
// A snapshot records the moment and the WAL position reached when it was
// complete. A crash-consistent snapshot (btrfs, or a stopped volume) replays
// all the WAL it holds, and a backup-API snapshot (reflink, copy) replays up
// to its backup's end, so only a snapshot completed at or before a point can
// be its base. Recovery then replays the archive from the base to the point
// (recovery_target_time inclusive: a time between two commits sees the first
// and not the second; recovery_target_lsn exclusive: every record that starts
// before the LSN), promotes, and stops cleanly.
//
// # Concurrency and crashes
//
// A per-volume lock orders snapshots, pruning and Forget; a Materialize in
// flight keeps its volume from being pruned. Materialize builds under a
// temporary volume "hist-tmp-<hex>" and renames it to its destination only
// when complete; Run removes temporaries and unrecorded snapshots a crash
// left, and the archives of volumes that no longer exist.
package history

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgversion"
)

// Point is a moment of a volume's history: exactly one of LSN ("0/1A2B3C4")
// or Time is set.
type Point struct {
	LSN  string
	Time time.Time
}

// ErrOutsideWindow means the point is before the volume's earliest
// recoverable moment (its creation, or the retention limit) or after its present.
var ErrOutsideWindow = errors.New("point outside the volume's history window")

// Source is the volume whose history is read, and the compute running on it
// now, if any (its compute/endpoint id, "" when suspended).
type Source struct{ VolumeID, ComputeID string }

// Result is where recovery stopped: the end of the last record replayed (the
// new timeline's fork point) and the time of the last commit replayed (the
// base's time when none was).
type Result struct {
	LSN  string
	Time time.Time
}

// Volumes is the storage the manager needs; storage.Driver satisfies it.
// Volumes are the directories Root()/id: Materialize renames a finished
// temporary volume to its destination.
type Volumes interface {
	Path(id string) string
	Clone(ctx context.Context, src, dst string) error
	Snapshot(ctx context.Context, src, dst string) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context) ([]string, error)
	Exists(id string) bool
	Atomic() bool
}

// Computes gives the running computes; *compute.Manager satisfies it.
type Computes interface {
	Get(id string) (*compute.Instance, bool)
	List() []*compute.Instance
}

// Config configures a Manager.
type Config struct {
	// Dir holds the archives: <Dir>/<volume-id>/.
	Dir      string
	Volumes  Volumes
	Computes Computes // may be set later with SetComputes, before Run and Materialize
	Installs []pgversion.Install
	// RunDir holds the sockets of recovering servers; short (socket path limit).
	RunDir string
	// Retention is how long a volume's history is kept (the project's
	// history_retention_seconds); 0 keeps nothing beyond the present.
	// Nil → 24 h for every volume.
	Retention func(volumeID string) time.Duration
	// SnapshotInterval and SnapshotWAL trigger an automatic snapshot of a
	// running compute's volume once that long has passed or that much WAL
	// was written since the last one (0 → 10 min and 64 MiB). The WAL
	// counts as the larger of its bytes and its full-page images at their
	// uncompressed size: what bounds a recovery is the pages it rewrites,
	// and with wal_compression 64 MiB of WAL can carry 1 GiB of images.
	SnapshotInterval time.Duration
	SnapshotWAL      int64
	// CheckInterval is how often Run looks at running computes (0 → 10 s).
	CheckInterval time.Duration
	// PruneInterval is how often Run prunes every history and forgets
	// those of deleted volumes (0 → 10 min): it reads every volume's index
	// and asks its retention, while windows of hours move little in minutes.
	PruneInterval time.Duration
	// ArchiveWait bounds the wait for the archiver after a forced segment
	// switch (0 → 10 s); past it, recovery reads the segment from the
	// source volume's pg_wal.
	ArchiveWait time.Duration
	// RecoveryBuffersMB caps shared_buffers of a recovering server, in MiB
	// (0 → a quarter of the host's memory). Below the cap a recovery gets
	// room for its whole database: replay touches pages at random, and a
	// page it evicts is written and read again (a 1 GiB database replaying
	// 100 MB of WAL took 4.8 s with 1 GiB of buffers, 3.7 s with 2 GiB).
	RecoveryBuffersMB int
	Logger            *slog.Logger // nil → discard
}

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if c.Dir == "" || !filepath.IsAbs(c.Dir) {
		return fmt.Errorf("history: dir %q must be an absolute path", c.Dir)
	}
	if c.Volumes == nil {
		return errors.New("history: no volumes")
	}
	if len(c.Installs) == 0 {
		return errors.New("history: no Postgres installations")
	}
	if c.RunDir == "" || !filepath.IsAbs(c.RunDir) || len(c.RunDir) > 80 {
		return fmt.Errorf("history: run dir %q must be an absolute path of at most 80 bytes", c.RunDir)
	}
	if c.Retention == nil {
		c.Retention = func(string) time.Duration { return 24 * time.Hour }
	}
	if c.SnapshotInterval <= 0 {
		c.SnapshotInterval = 10 * time.Minute
	}
	if c.SnapshotWAL <= 0 {
		c.SnapshotWAL = 64 << 20
	}
	if c.PruneInterval <= 0 {
		c.PruneInterval = 10 * time.Minute
	}
	if c.CheckInterval <= 0 {
		c.CheckInterval = 10 * time.Second
	}
	if c.ArchiveWait <= 0 {
		c.ArchiveWait = 10 * time.Second
	}
	if c.RecoveryBuffersMB <= 0 {
		c.RecoveryBuffersMB = hostMemoryMB() / 4
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// Owned volume ids: snapshots and Materialize's temporaries.
const (
	snapPrefix = "hist-"
	tmpPrefix  = "hist-tmp-"
	indexFile  = "index.json"
	walSubdir  = "wal"
)

var volumePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`) // storage.ValidID

// Manager keeps the history of volumes. See the package documentation.
type Manager struct {
	cfg      Config
	log      *slog.Logger
	installs map[int]pgversion.Install

	// sweep is held for writing while Run removes unrecorded snapshots and
	// temporaries, and for reading while a snapshot or temporary is made
	// and not yet recorded or published.
	sweep sync.RWMutex

	mu       sync.Mutex
	computes Computes
	vols     map[string]*volState
	// recovering are volumes prepared for a compute's recovery
	// (PrepareRecovery) whose history has not started.
	recovering map[string]bool
}

// volState serialises the changes to one volume's history.
type volState struct {
	mu   sync.Mutex
	pins int // Materialize calls reading the archive; guarded by Manager.mu
	// images counts the full-page images its compute wrote since the last
	// snapshot; guarded by mu.
	images imageMark
}

// New returns a Manager.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, log: cfg.Logger, installs: map[int]pgversion.Install{},
		computes: cfg.Computes, vols: map[string]*volState{}, recovering: map[string]bool{}}
	for _, in := range cfg.Installs {
		m.installs[in.Major] = in
	}
	if err := os.MkdirAll(cfg.Dir, 0o711); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	if err := os.MkdirAll(cfg.RunDir, 0o711); err != nil {
		return nil, fmt.Errorf("history: run dir: %w", err)
	}
	return m, nil
}

// SetComputes gives the manager the running computes (the compute manager
// needs the history manager first, for its archive hook).
func (m *Manager) SetComputes(c Computes) {
	m.mu.Lock()
	m.computes = c
	m.mu.Unlock()
}

func (m *Manager) getComputes() Computes {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.computes
}

func (m *Manager) vol(id string) *volState {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vols[id]
	if v == nil {
		v = &volState{}
		m.vols[id] = v
	}
	return v
}

func (m *Manager) pin(id string, d int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vols[id]
	if v == nil {
		v = &volState{}
		m.vols[id] = v
	}
	v.pins += d
}

func (m *Manager) pinned(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.vols[id]
	return v != nil && v.pins > 0
}

func (m *Manager) volDir(id string) string { return filepath.Join(m.cfg.Dir, id) }

// WALDir is where volumeID's archived WAL segments are.
func (m *Manager) WALDir(volumeID string) string {
	return filepath.Join(m.cfg.Dir, volumeID, walSubdir)
}

func (m *Manager) install(major int) (pgversion.Install, error) {
	in, ok := m.installs[major]
	if !ok {
		return pgversion.Install{}, fmt.Errorf("postgres %d not installed", major)
	}
	return in, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Owns reports whether a volume is one of the manager's snapshots or
// temporaries.
func (m *Manager) Owns(volumeID string) bool { return strings.HasPrefix(volumeID, snapPrefix) }

// restoreCommand fetches a segment from volumeID's archive, or else from
// the volume's own pg_wal (WAL a crash kept from being archived).
func (m *Manager) restoreCommand(volumeID string) string {
	a := strings.ReplaceAll(shellQuote(m.WALDir(volumeID)), "%", "%%")
	w := strings.ReplaceAll(shellQuote(filepath.Join(m.cfg.Volumes.Path(volumeID), "pg_wal")), "%", "%%")
	return "cp --reflink=auto " + a + "/%f %p 2>/dev/null || cp --reflink=auto " + w + "/%f %p 2>/dev/null"
}

// ensureDirs makes <Dir>/V and its wal folder, owned by the volume's owner
// (the OS identity its computes run as), which alone archives into it and
// restores from it. A folder of another owner (made before the volume had
// an identity of its own) is handed over with its segments.
func (m *Manager) ensureDirs(volumeID string) error {
	owner, err := pgrun.OwnerOf(m.cfg.Volumes.Path(volumeID))
	if err != nil {
		return fmt.Errorf("archive of %s: %w", volumeID, err)
	}
	if err := owner.MkdirOwned(m.volDir(volumeID), 0o700); err != nil {
		return fmt.Errorf("archive of %s: %w", volumeID, err)
	}
	wal := m.WALDir(volumeID)
	if cur, err := pgrun.OwnerOf(wal); err == nil && cur.UID != owner.UID {
		if err := owner.OwnTree(wal); err != nil {
			return fmt.Errorf("archive of %s: %w", volumeID, err)
		}
	}
	if err := owner.MkdirOwned(wal, 0o700); err != nil {
		return fmt.Errorf("archive of %s: %w", volumeID, err)
	}
	return nil
}

// Prepare makes volumeID's archive and, when its history has not started,
// starts it with a snapshot of the volume, which must be stopped. The
// compute manager calls it before every start of a read-write compute.
func (m *Manager) Prepare(ctx context.Context, volumeID string) error {
	if !volumePattern.MatchString(volumeID) || m.Owns(volumeID) {
		return fmt.Errorf("history: invalid volume id %q", volumeID)
	}
	if err := m.ensureDirs(volumeID); err != nil {
		return err
	}
	if m.isRecovering(volumeID) {
		return nil // its snapshot is no state of its own: Run starts its history once it runs
	}
	return m.Track(ctx, volumeID)
}

// Track starts volumeID's history now, if it has not started: a snapshot
// of the volume, which must not be running (a new branch's volume, before
// its compute starts). Points before it are outside the volume's history.
func (m *Manager) Track(ctx context.Context, volumeID string) error {
	if !volumePattern.MatchString(volumeID) || m.Owns(volumeID) {
		return fmt.Errorf("history: invalid volume id %q", volumeID)
	}
	v := m.vol(volumeID)
	v.mu.Lock()
	defer v.mu.Unlock()
	idx, err := m.readIndex(volumeID)
	if err != nil {
		return err
	}
	if len(idx.Snapshots) > 0 {
		return nil
	}
	if err := m.ensureDirs(volumeID); err != nil {
		return err
	}
	begin := time.Now()
	m.sweep.RLock()
	defer m.sweep.RUnlock()
	s, err := m.snapshotStopped(ctx, volumeID)
	if err != nil {
		return fmt.Errorf("start history of %s: %w", volumeID, err)
	}
	idx.Volume = volumeID
	idx.Snapshots = append(idx.Snapshots, s)
	if err := m.writeIndex(volumeID, idx); err != nil {
		_ = m.cfg.Volumes.Delete(context.WithoutCancel(ctx), s.ID)
		return err
	}
	m.log.Info("history started", "volume", volumeID, "snapshot", s.ID, "lsn", s.LSN, "took", time.Since(begin))
	return nil
}

// snapshotStopped snapshots a stopped volume. Its position is the latest
// checkpoint after a clean shutdown, else (a crash-consistent clone of a
// running volume) the end of the last segment in its pg_wal, which no WAL
// it holds can pass. The caller holds m.sweep for reading.
func (m *Manager) snapshotStopped(ctx context.Context, volumeID string) (snapshot, error) {
	dir := m.cfg.Volumes.Path(volumeID)
	if !m.cfg.Volumes.Exists(volumeID) {
		return snapshot{}, fmt.Errorf("volume %s does not exist", volumeID)
	}
	major, err := majorOf(dir)
	if err != nil {
		return snapshot{}, err
	}
	in, err := m.install(major)
	if err != nil {
		return snapshot{}, err
	}
	c, err := readControl(ctx, in, dir)
	if err != nil {
		return snapshot{}, err
	}
	lsn, redo := c.CheckLSN, c.RedoLSN
	if c.State != "shut down" && c.State != "shut down in recovery" {
		end, err := walEnd(dir, c.SegSize)
		if err != nil {
			return snapshot{}, err
		}
		lsn = max(lsn, end)
	}
	if label, err := os.ReadFile(filepath.Join(dir, "backup_label")); err == nil {
		if start, ok := labelStart(string(label)); ok {
			redo = min(redo, start)
		}
	}
	id := snapPrefix + randomHex(8)
	if err := m.cfg.Volumes.Snapshot(ctx, volumeID, id); err != nil {
		return snapshot{}, fmt.Errorf("snapshot %s: %w", volumeID, err)
	}
	return snapshot{ID: id, Time: time.Now().UTC(), LSN: lsn, RedoLSN: redo, Timeline: c.Timeline,
		SegSize: c.SegSize, Major: major}, nil
}

// labelStart reads START WAL LOCATION from a backup label.
func labelStart(label string) (LSN, bool) {
	for _, line := range strings.Split(label, "\n") {
		if rest, ok := strings.CutPrefix(line, "START WAL LOCATION: "); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				if l, err := ParseLSN(f[0]); err == nil {
					return l, true
				}
			}
		}
	}
	return 0, false
}

// Forget deletes a volume's archive and automatic snapshots (branch or
// project deleted). A volume without history is no error.
func (m *Manager) Forget(ctx context.Context, volumeID string) error {
	if !volumePattern.MatchString(volumeID) || m.Owns(volumeID) {
		return fmt.Errorf("history: invalid volume id %q", volumeID)
	}
	m.doneRecovering(volumeID)
	v := m.vol(volumeID)
	v.mu.Lock()
	defer v.mu.Unlock()
	return m.forgetLocked(ctx, volumeID)
}

func (m *Manager) forgetLocked(ctx context.Context, volumeID string) error {
	idx, err := m.readIndex(volumeID)
	if err != nil {
		return err
	}
	// Delete the snapshots first, rewriting the index as each goes, so that
	// a failure leaves nothing unrecorded.
	for len(idx.Snapshots) > 0 {
		s := idx.Snapshots[len(idx.Snapshots)-1]
		if err := m.cfg.Volumes.Delete(ctx, s.ID); err != nil && m.cfg.Volumes.Exists(s.ID) {
			return fmt.Errorf("forget %s: delete snapshot: %w", volumeID, err)
		}
		idx.Snapshots = idx.Snapshots[:len(idx.Snapshots)-1]
		if err := m.writeIndex(volumeID, idx); err != nil {
			return fmt.Errorf("forget %s: %w", volumeID, err)
		}
	}
	if err := os.RemoveAll(m.volDir(volumeID)); err != nil {
		return fmt.Errorf("forget %s: %w", volumeID, err)
	}
	return nil
}

// snapshot is one automatic snapshot of a volume.
type snapshot struct {
	ID string `json:"id"` // the read-only volume
	// Time and LSN: when the snapshot was complete and the WAL position
	// then; every record it needs to replay ends at or before LSN.
	Time time.Time `json:"time"`
	LSN  LSN       `json:"lsn"`
	// RedoLSN is where its recovery starts reading WAL.
	RedoLSN  LSN    `json:"redo_lsn"`
	Timeline uint32 `json:"timeline"`
	SegSize  int64  `json:"seg_size"`
	Major    int    `json:"major"`
	// BackupLabel and TablespaceMap, for a snapshot made with the backup
	// API (non-atomic drivers), are written into a clone of it.
	BackupLabel   string `json:"backup_label,omitempty"`
	TablespaceMap string `json:"tablespace_map,omitempty"`
}

// index is a volume's history: its snapshots, oldest first.
type index struct {
	Volume    string     `json:"volume"`
	Snapshots []snapshot `json:"snapshots"`
}

func (m *Manager) readIndex(volumeID string) (index, error) {
	b, err := os.ReadFile(filepath.Join(m.volDir(volumeID), indexFile))
	if errors.Is(err, os.ErrNotExist) {
		return index{Volume: volumeID}, nil
	}
	if err != nil {
		return index{}, fmt.Errorf("history of %s: %w", volumeID, err)
	}
	var idx index
	if err := json.Unmarshal(b, &idx); err != nil {
		return index{}, fmt.Errorf("history of %s: %s: %w", volumeID, indexFile, err)
	}
	return idx, nil
}

// writeIndex replaces the index atomically (temporary file, fsync, rename).
func (m *Manager) writeIndex(volumeID string, idx index) error {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(m.volDir(volumeID), indexFile)
	tmp := p + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write history of %s: %w", volumeID, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		return fmt.Errorf("write history of %s: %w", volumeID, err)
	}
	return nil
}

// SnapshotInfo describes one automatic snapshot.
type SnapshotInfo struct {
	ID   string    // its read-only volume
	Time time.Time // when it was complete
	LSN  string    // the WAL position then
}

// Snapshots lists volumeID's automatic snapshots, oldest first; the first
// is where its recoverable history begins. None: no history.
func (m *Manager) Snapshots(volumeID string) ([]SnapshotInfo, error) {
	if !volumePattern.MatchString(volumeID) {
		return nil, fmt.Errorf("history: invalid volume id %q", volumeID)
	}
	v := m.vol(volumeID)
	v.mu.Lock()
	idx, err := m.readIndex(volumeID)
	v.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([]SnapshotInfo, 0, len(idx.Snapshots))
	for _, s := range idx.Snapshots {
		out = append(out, SnapshotInfo{ID: s.ID, Time: s.Time, LSN: s.LSN.String()})
	}
	return out, nil
}
