// Package platform is Grove's domain core: projects, branches, endpoints,
// roles, databases, snapshots and operations. It orchestrates: it changes
// their metadata and drives the compute manager and storage through the
// small interfaces declared here, while the checks of requests and the
// rules on them live in small packages beside it (projectspec, branchspec,
// endpointspec, pitr, plans, usage, schedule), and API keys, orgs and
// members in package accounts, which it asks what a caller reaches. It
// knows nothing of HTTP or the wire.
package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/connuri"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/metering"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/grovedb/grove/internal/plans"
	"github.com/grovedb/grove/internal/sealer"
)

// Computes is what the platform needs from the compute manager.
type Computes interface {
	Take(ctx context.Context, spec compute.Spec) (*compute.Instance, error)
	PoolLen(major int) int
	NewVolume(ctx context.Context, major int) (string, error)
	Start(ctx context.Context, spec compute.Spec) (*compute.Instance, error)
	Suspend(ctx context.Context, id string) error
	Get(id string) (*compute.Instance, bool)
	// List returns the computes Get would return.
	List() []*compute.Instance
	ConnOpened(id string)
	ConnClosed(id string)
	// Reconcile adopts the servers an earlier Grove left running that
	// expect accepts and stops the others (compute.Manager.Reconcile).
	Reconcile(ctx context.Context, keep func(volumeID string) bool, expect compute.Expect) error
	// CloneRunning copies a running compute's volume consistently.
	CloneRunning(ctx context.Context, id, dstVolume string) error
	// SettleRedo checkpoints a running compute whose clone would inherit
	// much WAL to replay (before a storage snapshot of its volume).
	SettleRedo(ctx context.Context, id string) error
	// Resize applies a new size to a running compute: settings that reload
	// apply at once, others restart it, as Neon's do.
	Resize(ctx context.Context, id string, minCU, maxCU float64) error
	// CheckpointAfter runs a checkpoint on a running compute after d, in
	// the background.
	CheckpointAfter(id string, d time.Duration)
}

// Volumes is what the platform needs from storage.
type Volumes interface {
	Delete(ctx context.Context, id string) error
	Clone(ctx context.Context, src, dst string) error
	Snapshot(ctx context.Context, src, dst string) error
	Exists(id string) bool
	// Atomic reports whether Clone of a volume in use is crash-consistent.
	Atomic() bool
	Path(id string) string
}

// Config wires a Platform.
type Config struct {
	Store    *metastore.Store
	Computes Computes
	Volumes  Volumes
	Installs []pgversion.Install
	Sealer   *sealer.Sealer
	// ProxyAddr is the proxy's advertised host:port for connection strings.
	ProxyAddr string
	// Domain, when set, gives endpoints DNS names routed by SNI.
	Domain string
	// DataPlaneAddr is the data plane's advertised host:port (--http-addr),
	// for the Data API's and Auth's URLs.
	DataPlaneAddr string
	Logger        *slog.Logger
	// History, when set, archives branches' WAL and materialises points in
	// their history (branching, snapshots and restores at an LSN or time).
	History *history.Manager
	// OpBudget is how long a mutation waits for its work before answering
	// with running operations (DefaultOpBudget when zero).
	OpBudget time.Duration
	// Metering, when set, configures the meter of the platform's computes:
	// New fills its Active (ActiveComputes) and Sink (RecordUsage), and
	// MeterEvent books the compute manager's events to it. Nil: nothing is
	// metered, quotas are not enforced and project totals stay 0.
	Metering *metering.Config
	// ScheduleInterval is how often Run deletes what expired and takes the
	// scheduled snapshots due (10 s when zero).
	ScheduleInterval time.Duration
	// SampleInterval is how often Run reads running computes' sizes and WAL
	// positions (DefaultSampleInterval when zero).
	SampleInterval time.Duration
}

// Platform implements Grove's operations.
type Platform struct {
	cfg       Config
	store     *metastore.Store
	accounts  *accounts.Accounts
	log       *slog.Logger
	act       activity
	setup     sync.Map      // branch id → *sync.Mutex serialising its pending set-up
	plans     plans.Cache   // plans.go
	usage     usageState    // metering and quotas: consumption.go, quota.go
	verifiers verifierCache // verifiers.go
	dataAPIs  dataAPICache  // dataapi.go
	bg        sync.WaitGroup
}

// New returns a Platform.
func New(cfg Config) (*Platform, error) {
	if cfg.Store == nil || cfg.Computes == nil || cfg.Volumes == nil || cfg.Sealer == nil {
		return nil, errors.New("platform: store, computes, volumes and sealer are required")
	}
	if len(cfg.Installs) == 0 {
		return nil, errors.New("platform: no Postgres installation")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ScheduleInterval <= 0 {
		cfg.ScheduleInterval = 10 * time.Second
	}
	p := &Platform{cfg: cfg, store: cfg.Store, accounts: accounts.New(cfg.Store), log: cfg.Logger}
	if cfg.Metering != nil {
		mc := *cfg.Metering
		mc.Active, mc.Sink = p.ActiveComputes, p.RecordUsage
		m, err := metering.New(mc)
		if err != nil {
			return nil, fmt.Errorf("platform: %w", err)
		}
		p.usage.meter = m
	}
	return p, nil
}

// Meter is the platform's meter; nil without Config.Metering.
func (p *Platform) Meter() *metering.Meter { return p.meter() }

func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Hosts names the hosts and connection strings of the platform's endpoints.
func (p *Platform) Hosts() connuri.Hosts {
	return connuri.Hosts{ProxyAddr: p.cfg.ProxyAddr, Domain: p.cfg.Domain}
}

// suspendTimeout converts Neon's suspend_timeout_seconds to a duration:
// 0 → the default 300 s, -1 → never (negative duration).
func suspendTimeout(sec int64) time.Duration {
	switch {
	case sec == 0:
		return 300 * time.Second
	case sec < 0:
		return -1
	default:
		return time.Duration(sec) * time.Second
	}
}

func (p *Platform) spec(e metastore.Endpoint, volumeID string, major int) compute.Spec {
	return compute.Spec{
		ID: e.ID, VolumeID: volumeID, Major: major,
		MinCU: e.MinCU, MaxCU: e.MaxCU,
		SuspendTimeout: suspendTimeout(e.SuspendTimeoutSeconds),
		ReadOnly:       e.Type == "read_only",
	}
}

func wrapStore(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, metastore.ErrNotFound) {
		return &errkind.Error{Kind: errkind.NotFound, Msg: what + " not found", Err: err}
	}
	if errors.Is(err, metastore.ErrConflict) {
		return &errkind.Error{Kind: errkind.Conflict, Msg: what + " already exists", Err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}
