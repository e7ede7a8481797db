package compute

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/grovedb/grove/internal/cgroup"
	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgversion"
)

// Volumes is the storage the manager needs; storage.Driver satisfies it.
type Volumes interface {
	Path(id string) string
	Create(ctx context.Context, id string) error
	Clone(ctx context.Context, src, dst string) error
	Delete(ctx context.Context, id string) error
	List(ctx context.Context) ([]string, error)
	Exists(id string) bool
	// Atomic reports whether Clone of a volume in use is an atomic,
	// crash-consistent copy (btrfs); otherwise CloneRunning uses Postgres'
	// backup API around it.
	Atomic() bool
}

// Config configures a Manager.
type Config struct {
	Installs []pgversion.Install // one per major; computes of other majors are refused
	User     pgrun.User          // the OS user templates belong to, and every compute runs as without Identities (never root)
	// Identities, when set, gives each project's computes an OS identity
	// of their own (identity.go); nil: every compute runs as User.
	Identities Identities
	Volumes    Volumes
	// RunDir holds <RunDir>/<instance-id>/.s.PGSQL.5432. At most MaxRunDirLen
	// bytes, so that socket paths stay below the kernel's 107-byte limit.
	RunDir string
	// LogDir receives each volume's Postgres stderr as <volume>.log; empty discards it.
	LogDir string
	// PoolSize is the number of warm instances per major: 0 → 1, <0 → none.
	// It is the floor: under demand a major's pool grows up to PoolMax
	// warm instances of all majors together (demand.go).
	PoolSize int
	// PoolMax caps the warm instances of all majors together (0 → those
	// fitting in 1/32 of Host.MemoryBytes; below PoolSize → PoolSize).
	PoolMax int
	// PoolDemandLife is how long a Take weighs on its pool's size: its
	// weight falls by e every PoolDemandLife (0 → 1 min).
	PoolDemandLife time.Duration
	// PoolMinCU and PoolMaxCU size warm instances (0 → 0.25 and 2, Neon's
	// default endpoint); a Take of another size restarts the instance when
	// the size changes a restart-only setting.
	PoolMinCU, PoolMaxCU float64
	Host                 pgconf.Host
	CUMemoryBytes        int64 // 0 → pgconf.DefaultCUMemoryBytes
	// MaxActive caps the computes running at once (warm ones excluded): past
	// it, the computes idle longest without a client connection are
	// suspended, so that creating thousands of projects cannot exhaust the
	// host. 0 → no cap.
	MaxActive int
	// DefaultSuspendTimeout replaces a Spec.SuspendTimeout of 0 (0 → 300 s).
	DefaultSuspendTimeout time.Duration
	// IdleCheckInterval is how often Run looks for idle computes and empty pools (0 → 1 s).
	IdleCheckInterval time.Duration
	Restart           RestartPolicy // zero → DefaultRestartPolicy
	Logger            *slog.Logger  // nil → discard
	// Archive, when set, keeps the history of every read-write compute's
	// volume (internal/history): computes run with archive_mode on and its
	// archive_command, warm instances included, and Reconcile leaves the
	// volumes it owns alone. Nil: no archiving.
	Archive Archiver
	// ArchiveTimeout is archive_timeout with Archive set (0 → 60 s).
	ArchiveTimeout time.Duration
	// Cgroups, when set, holds each compute's processes in a group with
	// the CPU and memory limits of its current size (cgroups.go). Nil: no
	// enforcement; sizes still set Postgres' settings.
	Cgroups cgroup.Hierarchy
}

// Archiver archives the WAL of read-write computes and owns some volumes
// (the history's snapshots).
type Archiver interface {
	// WALDir is the directory of volumeID's archived WAL segments: its
	// computes archive into it, its standbys restore from it.
	WALDir(volumeID string) string
	// Prepare runs before every start of a read-write compute's server on
	// volumeID, the volume stopped: it makes the volume's archive and, at
	// its first start, records where its history begins. An error fails
	// the start.
	Prepare(ctx context.Context, volumeID string) error
	// Owns reports whether volumeID belongs to the archiver; Reconcile
	// never deletes such a volume.
	Owns(volumeID string) bool
	// Forget drops the history of a volume the manager made and deletes
	// without it ever having been handed out (a warm instance's).
	Forget(ctx context.Context, volumeID string) error
}

// MaxRunDirLen bounds Config.RunDir: the socket path <RunDir>/<id>/.s.PGSQL.5432
// must fit in 107 bytes with an id of up to 40 bytes.
const MaxRunDirLen = 107 - 1 - maxIDLen - len("/.s.PGSQL.5432")

const (
	fillQuiet        = 400 * time.Millisecond
	maxParallelFills = 2
	maxIDLen         = 40
	templatePrefix   = "tmpl-"
	spareDatabase    = "grove_spare"
	confFile         = "grove.conf"
	// archiveLink, in a data directory, links to the WAL archive its
	// server archives into (or, on a standby, restores from).
	archiveLink     = "grove_archive"
	includeLine     = "include_if_exists = '" + confFile + "'"
	startTimeout    = time.Minute
	switchWALTimout = 10 * time.Second
)

var (
	idPattern     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	volumePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`) // storage.ValidID
)

// Errors callers branch on.
var (
	ErrClosed     = errors.New("compute manager closed")
	ErrNotRunning = errors.New("compute not running")
	ErrExists     = errors.New("compute already exists")
	ErrNoVolume   = errors.New("volume not found")
	ErrNoVersion  = errors.New("postgres version not installed")
)

// Validate checks the configuration and fills defaults.
func (c *Config) Validate() error {
	if len(c.Installs) == 0 {
		return errors.New("compute: no Postgres installations")
	}
	if c.Volumes == nil {
		return errors.New("compute: no volumes")
	}
	if c.User.Name == "" || (c.User.UID == 0 && os.Geteuid() == 0) {
		return errors.New("compute: Postgres must run as an unprivileged OS user")
	}
	if c.RunDir == "" || !filepath.IsAbs(c.RunDir) {
		return fmt.Errorf("compute: run dir %q must be an absolute path", c.RunDir)
	}
	if len(c.RunDir) > MaxRunDirLen {
		return fmt.Errorf("compute: run dir %q longer than %d bytes (Unix socket path limit)", c.RunDir, MaxRunDirLen)
	}
	if c.PoolSize == 0 {
		c.PoolSize = 1
	}
	if c.PoolMax == 0 {
		c.PoolMax = defaultPoolMax(c.Host.MemoryBytes, c.PoolSize)
	}
	c.PoolMax = max(c.PoolMax, c.PoolSize)
	if c.PoolDemandLife <= 0 {
		c.PoolDemandLife = defaultDemandLife
	}
	if c.PoolMinCU == 0 {
		c.PoolMinCU = 0.25
	}
	if c.PoolMaxCU == 0 {
		c.PoolMaxCU = max(2, c.PoolMinCU)
	}
	if c.PoolMaxCU < c.PoolMinCU {
		return fmt.Errorf("compute: pool size %v–%v CU: min above max", c.PoolMinCU, c.PoolMaxCU)
	}
	if c.DefaultSuspendTimeout <= 0 {
		c.DefaultSuspendTimeout = 300 * time.Second
	}
	if c.IdleCheckInterval <= 0 {
		c.IdleCheckInterval = time.Second
	}
	if c.ArchiveTimeout <= 0 {
		c.ArchiveTimeout = time.Minute
	}
	c.Restart = c.Restart.withDefaults()
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// Spec describes a compute to take or start.
type Spec struct {
	ID           string // endpoint id, e.g. ep-cool-rain-a1b2c3d4
	VolumeID     string // data directory volume (Start); ignored by Take
	Major        int    // Postgres major version
	MinCU, MaxCU float64
	// SuspendTimeout is the idle time before suspend: 0 → the default, <0 → never.
	SuspendTimeout time.Duration
	ReadOnly       bool
	// Standby, when set, makes the compute a hot standby (standby.go);
	// ReadOnly must be set too.
	Standby *Standby
	// Recovery, when set, makes the compute's first start a point-in-time
	// recovery of its volume (recover.go).
	Recovery *Recovery

	// replay holds the limits the server started with to replay WAL that
	// a larger server wrote (replay.go): every size of it keeps at least
	// these, so that a resize does not restart it to lower them.
	replay pgconf.ReplayLimits
}

func (s Spec) validate(needVolume bool) error {
	if !idPattern.MatchString(s.ID) {
		return fmt.Errorf("invalid compute id %q", s.ID)
	}
	if needVolume && !volumePattern.MatchString(s.VolumeID) {
		return fmt.Errorf("compute %s: invalid volume id %q", s.ID, s.VolumeID)
	}
	if s.MinCU < 0 || s.MaxCU < 0 || (s.MaxCU > 0 && s.MinCU > s.MaxCU) {
		return fmt.Errorf("compute %s: invalid size %v–%v CU", s.ID, s.MinCU, s.MaxCU)
	}
	if s.Recovery != nil && (s.ReadOnly || s.Standby != nil) {
		return fmt.Errorf("compute %s: a recovery is read-write", s.ID)
	}
	if s.Standby != nil {
		if !s.ReadOnly {
			return fmt.Errorf("compute %s: a standby must be read-only", s.ID)
		}
		return s.Standby.validate(s.ID)
	}
	return nil
}

// EventKind names a lifecycle event.
type EventKind string

// Lifecycle events.
const (
	EventStarted   EventKind = "started"   // a compute started (Take, Start)
	EventSuspended EventKind = "suspended" // stopped by Suspend (idle or asked)
	EventCrashed   EventKind = "crashed"   // exited unexpectedly; a restart follows
	EventRestarted EventKind = "restarted" // back after a crash
	EventFailed    EventKind = "failed"    // crashed too often; given up until the next Start
)

// Event is one lifecycle event of a compute.
type Event struct {
	Time     time.Time
	Kind     EventKind
	ID       string
	VolumeID string
	Err      error         // crash cause for crashed/failed
	Duration time.Duration // start time for started/restarted
}

// Manager runs every compute Postgres process. See the package documentation.
type Manager struct {
	cfg      Config
	log      *slog.Logger
	installs map[int]pgversion.Install

	life     context.Context // ends at Close: aborts restarts and pool fills
	stopLife context.CancelFunc
	wg       sync.WaitGroup // supervisors
	starts   singleflight.Group
	poke     chan struct{}
	// leaving is closed by Leave: supervisors return, their servers running.
	leaving chan struct{}
	// adopting holds the adoption of each compute registered by Reconcile
	// and not yet adopted (adopt.go), which a Start of it runs at once.
	adopting map[*Instance]func()

	mu       sync.Mutex
	closed   bool
	byID     map[string]*Instance // taken or started computes
	pool     map[int][]*Instance  // warm, not yet taken
	fillBack map[int]fillState
	// warming holds the warm instances being filled or resized, which are
	// in no pool meanwhile, so that Reconcile leaves their volumes alone.
	warming map[*Instance]bool
	// demandSkew moves the clock of the pools' demand (demand.go) on.
	demandSkew time.Duration

	events handlers // Subscribe (events.go)
}

type fillState struct {
	// filling counts warm instances being started; up to maxParallelFills
	// at once, so that a burst of Takes is refilled at the machine's pace.
	filling int
	fails   int
	next    time.Time
	// minCU and maxCU size the next warm instance: those of the last Take
	// of this major, so that a platform creating projects of one size gets
	// warm instances that need no restart (0 → the configured pool size).
	minCU, maxCU float64
	// quietUntil delays refills after a Take, so that starting a warm
	// instance does not compete for the CPU with the new compute's set-up,
	// its first client and the next creates of a burst (pool.go).
	quietUntil time.Time
	// demand counts recent Takes, which size the pool (demand.go).
	demand demand
}

// New returns a Manager. It starts nothing until EnsureTemplates and Run.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Manager{
		cfg:      cfg,
		log:      cfg.Logger,
		installs: map[int]pgversion.Install{},
		poke:     make(chan struct{}, 1),
		leaving:  make(chan struct{}),
		adopting: map[*Instance]func(){},
		byID:     map[string]*Instance{},
		pool:     map[int][]*Instance{},
		fillBack: map[int]fillState{},
		warming:  map[*Instance]bool{},
	}
	for _, in := range cfg.Installs {
		m.installs[in.Major] = in
	}
	if err := os.MkdirAll(cfg.RunDir, 0o711); err != nil {
		return nil, fmt.Errorf("compute: run dir: %w", err)
	}
	if err := os.Chmod(cfg.RunDir, 0o711); err != nil {
		return nil, fmt.Errorf("compute: run dir: %w", err)
	}
	if cfg.LogDir != "" {
		if err := os.MkdirAll(cfg.LogDir, 0o750); err != nil {
			return nil, fmt.Errorf("compute: log dir: %w", err)
		}
	}
	m.life, m.stopLife = context.WithCancel(context.Background())
	return m, nil
}

// TemplateID is the volume holding the template cluster of a major.
func TemplateID(major int) string { return templatePrefix + strconv.Itoa(major) }

func isTemplate(volumeID string) bool { return strings.HasPrefix(volumeID, templatePrefix) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (m *Manager) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	attrs := []any{slog.String("compute", e.ID), slog.String("volume", e.VolumeID)}
	if e.Duration > 0 {
		attrs = append(attrs, slog.Duration("took", e.Duration))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.Any("err", e.Err))
		m.log.Warn("compute "+string(e.Kind), attrs...)
	} else {
		m.log.Info("compute "+string(e.Kind), attrs...)
	}
	m.events.call(e)
}

func (m *Manager) install(major int) (pgversion.Install, error) {
	if major == 0 {
		major = pgversion.DefaultMajor
	}
	in, ok := m.installs[major]
	if !ok {
		return pgversion.Install{}, fmt.Errorf("%w: %d", ErrNoVersion, major)
	}
	return in, nil
}

// size returns the settings of a compute of spec on spec.VolumeID,
// archiving when the manager archives and the compute is read-write.
func (m *Manager) size(spec Spec) pgconf.Settings {
	minCU, maxCU := spec.MinCU, spec.MaxCU
	if minCU == 0 {
		minCU = 0.25
	}
	if maxCU == 0 {
		maxCU = minCU
	}
	s := pgconf.Size(minCU, maxCU, m.cfg.Host, m.cfg.CUMemoryBytes)
	if m.cfg.Archive != nil && !spec.ReadOnly && spec.VolumeID != "" {
		s.ArchiveMode = true
		s.ArchiveDir = archiveLink
		s.ArchiveTimeoutSeconds = int(m.cfg.ArchiveTimeout / time.Second)
	}
	if spec.Standby != nil {
		m.standbySettings(&s, spec)
	}
	s.Raise(spec.replay)
	return s
}

func (m *Manager) sockDir(id string) string { return filepath.Join(m.cfg.RunDir, id) }

// Get returns a compute that is running, starting, restarting or failed.
// Suspended computes are not kept.
func (m *Manager) Get(id string) (*Instance, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	in, ok := m.byID[id]
	return in, ok
}

// List returns the computes Get would return.
func (m *Manager) List() []*Instance {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Instance, 0, len(m.byID))
	for _, in := range m.byID {
		out = append(out, in)
	}
	return out
}

// PoolLen is the number of warm instances of a major ready to take.
func (m *Manager) PoolLen(major int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, in := range m.pool[major] {
		if in.State() == StateActive {
			n++
		}
	}
	return n
}

// ConnOpened counts a client connection to a compute (from the proxy).
func (m *Manager) ConnOpened(id string) {
	if in, ok := m.Get(id); ok {
		in.mu.Lock()
		in.conns++
		in.mu.Unlock()
	}
}

// ConnClosed counts the end of a client connection; at zero the idle timer starts.
func (m *Manager) ConnClosed(id string) {
	if in, ok := m.Get(id); ok {
		in.mu.Lock()
		if in.conns > 0 {
			in.conns--
		}
		if in.conns == 0 {
			in.idleSince = time.Now()
		}
		in.mu.Unlock()
	}
}

func (m *Manager) wakeRun() {
	select {
	case m.poke <- struct{}{}:
	default:
	}
}
