package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on --debug-addr
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/grovedb/grove/internal/apiserver"
	"github.com/grovedb/grove/internal/autoscale"
	"github.com/grovedb/grove/internal/cgroup"
	"github.com/grovedb/grove/internal/compute"
	"github.com/grovedb/grove/internal/history"
	"github.com/grovedb/grove/internal/metastore"
	"github.com/grovedb/grove/internal/metering"
	"github.com/grovedb/grove/internal/metrics"
	"github.com/grovedb/grove/internal/osid"
	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgversion"
	"github.com/grovedb/grove/internal/platform"
	"github.com/grovedb/grove/internal/pooler"
	"github.com/grovedb/grove/internal/proxy"
	"github.com/grovedb/grove/internal/proxy/proxymetrics"
	"github.com/grovedb/grove/internal/reserve"
	"github.com/prometheus/client_golang/prometheus"
)

// serveConfig is grove serve's configuration, from flags.
type serveConfig struct {
	DataDir       string
	APIAddr       string
	PGAddr        string
	HTTPAddr      string
	Domain        string
	MetaURL       string
	StorageDriver string
	PoolSize      int
	PoolMax       int
	MaxActive     int
	OSUser        string
	MetaOSUser    string
	TLSCert       string
	TLSKey        string
	LogLevel      string
	DebugAddr     string
	PgBouncer     string
	// MetaReserve sizes the internal metadata cluster's own file system
	// (internal/reserve); 0: none.
	MetaReserve int64
	// StorageImageSize sizes the volumes' btrfs image where the data dir
	// has no btrfs or reflinks (storage.go); 0: a share of the free space.
	StorageImageSize int64
	// AllowPlaintext lets the proxy accept logins without TLS (local development).
	AllowPlaintext bool
	// Rate limits and metrics (internal/apiserver/ratelimit.go, internal/metrics).
	RateLimitPerMinute      int
	RateLimitPerRouteSecond int
	MetricsAddr             string
	// Sizes and autoscaling (cgroups: internal/cgroup, internal/autoscale).
	CUMemory  int64
	Autoscale bool
	Cgroups   bool
	// Consumption metering (internal/metering): on by default; interval and
	// bucket are shortened by tests.
	Metering         bool
	MeteringInterval time.Duration
	MeteringBucket   time.Duration
	// Plans is a JSON file of plan limits upserted at start (plans.go).
	Plans string
}

func parseServe(args []string) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.DataDir, "data-dir", "./.grove", "where Grove keeps volumes, metadata and keys")
	fs.StringVar(&c.APIAddr, "api-addr", "127.0.0.1:8080", "control API listen address (serves /api/v2)")
	fs.StringVar(&c.PGAddr, "pg-addr", "127.0.0.1:5432", "Postgres proxy listen address")
	fs.StringVar(&c.HTTPAddr, "http-addr", "127.0.0.1:8081", "data-plane HTTP listen address")
	fs.StringVar(&c.Domain, "domain", "", "domain whose subdomains name endpoints (wildcard DNS to the proxy); empty: route by options")
	fs.StringVar(&c.MetaURL, "meta-url", "", "external metadata Postgres URL; empty: an internal cluster in <data-dir>/meta")
	fs.StringVar(&c.StorageDriver, "storage-driver", "", "btrfs, reflink or copy; empty: probe the data dir")
	fs.Func("storage-image-size", "as root on a data dir without btrfs or reflinks (ext4): size of the sparse btrfs image holding the volumes (<data-dir>/volumes.img), e.g. 100GiB; it grows as it fills, never shrinks (default auto: half the free space)", func(v string) error {
		n, err := parseImageSize(v) // storage.go
		c.StorageImageSize = n
		return err
	})
	fs.IntVar(&c.PoolSize, "pool-size", 1, "warm Postgres instances kept per version")
	fs.IntVar(&c.PoolMax, "pool-max", 0, "warm Postgres instances of all versions at most, as recent creates ask for; 0: those fitting in 1/32 of memory")
	fs.IntVar(&c.MaxActive, "max-active-computes", 0, "computes running at once before the idlest are suspended; 0: one per 64 MiB of memory")
	fs.StringVar(&c.OSUser, "os-user", "grove-pg", "OS user owning the template clusters when grove runs as root (each project's computes run under a uid of their own)")
	fs.StringVar(&c.MetaOSUser, "meta-os-user", "grove-meta", "OS user the internal metadata cluster runs as when grove runs as root")
	c.MetaReserve = reserve.DefaultSize
	fs.Func("meta-reserve", "as root, size of a file system of the internal metadata cluster's own, which tenants cannot fill (an image in the data dir mounted at <data-dir>/meta; it grows, never shrinks), e.g. 1GiB; 0: none (default 1GiB)", func(v string) error {
		if strings.TrimSpace(v) == "0" {
			c.MetaReserve = 0
			return nil
		}
		n, err := parseSize(v)
		if err == nil && n < reserve.MinSize {
			err = fmt.Errorf("size %q: a reserve is 0 (none) or at least %d MiB", v, reserve.MinSize>>20)
		}
		c.MetaReserve = n
		return err
	})
	fs.StringVar(&c.TLSCert, "tls-cert", "", "proxy TLS certificate (PEM); empty: self-signed, made at first start")
	fs.StringVar(&c.TLSKey, "tls-key", "", "proxy TLS key (PEM)")
	fs.BoolVar(&c.AllowPlaintext, "allow-plaintext", false, "let the proxy accept logins without TLS (local development; Neon refuses them)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "listen address for Go's pprof profiles (/debug/pprof/); empty: off")
	fs.Func("cu-memory", "memory of one Compute Unit, e.g. 4GiB (Neon's) or 512MiB on a small host", func(v string) error {
		n, err := parseBytes(v)
		c.CUMemory = n
		return err
	})
	fs.BoolVar(&c.Autoscale, "autoscale", true, "move each compute between its min and max CU with its load")
	fs.BoolVar(&c.Cgroups, "cgroups", true, "enforce each compute's CPU and memory with a cgroup (false: Postgres settings alone follow its size)")
	fs.BoolVar(&c.Metering, "metering", true, "meter consumption (active time, CU-seconds, WAL, egress) and enforce project quotas")
	fs.DurationVar(&c.MeteringInterval, "metering-interval", metering.DefaultInterval, "how often metered usage is stored")
	fs.DurationVar(&c.MeteringBucket, "metering-bucket", metering.DefaultBucket, "length of a stored usage bucket (an hour; shorter in tests)")
	fs.StringVar(&c.Plans, "plans", "", "JSON file of plan limits applied at start, e.g. {\"free\":{\"projects_per_org\":30000,\"max_cu\":2}}; empty: the stored plans")
	fs.StringVar(&c.PgBouncer, "pgbouncer", "", "PgBouncer binary behind -pooler hosts; empty: ./.pgbouncer (scripts/setup.sh), then Debian's")
	fs.IntVar(&c.RateLimitPerMinute, "rate-limit-per-minute", apiserver.DefaultRatePerMinute, "API requests a minute per API key (Neon's 700); 0: no limit")
	fs.IntVar(&c.RateLimitPerRouteSecond, "rate-limit-per-route-per-second", apiserver.DefaultRatePerRouteSecond, "API requests a second per API key and route (Neon's 40); 0: no limit")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "listen address serving /metrics without a key (a private network's Prometheus); the API listener serves it to the admin API key")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, errors.New("serve: --tls-cert and --tls-key go together")
	}
	if c.RateLimitPerMinute < 0 || c.RateLimitPerRouteSecond < 0 {
		return c, errors.New("serve: rate limits are 0 (none) or more")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return c, err
	}
	c.DataDir = abs
	return c, nil
}

func serve(ctx context.Context, args []string) error {
	cfg, err := parseServe(args)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)
	// SIGTERM (an upgrade, a service manager's stop or restart) leaves the
	// computes and the metadata cluster running for the next Grove to
	// adopt; SIGINT (Ctrl-C) stops them all. Read once the context ends.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	leaving := false

	// The Postgres user must traverse the data dir to reach its volumes.
	if err := os.MkdirAll(cfg.DataDir, 0o711); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.Chmod(cfg.DataDir, 0o711); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	installs, err := pgversion.Find(ctx)
	if err != nil {
		return err
	}
	var found []string
	for _, in := range installs {
		found = append(found, fmt.Sprintf("%d (%s, %s)", in.Major, in.Version, in.BinDir))
	}
	log.Info("postgres: found versions", "versions", strings.Join(found, "; "), "default", pgversion.DefaultMajor)
	defaultInstall, ok := pgversion.Pick(installs, pgversion.DefaultMajor)
	if !ok {
		defaultInstall = installs[len(installs)-1]
	}
	osUser, err := pgrun.EnsureUser(cfg.OSUser)
	if err != nil {
		return err
	}

	driver, stopStorage, err := openStorage(ctx, cfg, log) // storage.go: a btrfs image on ext4
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer stopStorage() // deferred first: runs after every server on the volumes has stopped
	if err := driver.Cleanup(ctx); err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	log.Info("storage: driver chosen", "driver", driver.Name(), "root", driver.Root(), "atomic_clone", driver.Atomic())

	// --- metadata reserve (internal/reserve) ---
	// The internal metadata cluster gets a file system of its own, which
	// tenants cannot fill; the run dir lives there too, so that a start
	// needs no space on the data dir's file system. Its free space is
	// watched with the data dir's.
	diskFS := []reserve.FS{{Name: "data", Path: cfg.DataDir,
		Hint: "tenants' volumes and WAL archives fill it: free space or grow it; computes fail writes until then"}}
	var metaReserve *reserve.Reserve
	ownDir := cfg.DataDir // holds the run dir
	if cfg.MetaURL == "" {
		metaReserve, err = reserve.Open(ctx, reserve.Config{DataDir: cfg.DataDir, Size: cfg.MetaReserve,
			StopStale: pgrun.StopStale, Logger: log.With("component", "reserve")})
		switch {
		case errors.Is(err, errors.ErrUnsupported) && cfg.MetaReserve == 0:
			log.Info("metadata: no reserve (--meta-reserve=0); the metadata cluster shares the tenants' disk space")
		case errors.Is(err, errors.ErrUnsupported):
			log.Warn("metadata: no reserve; the metadata cluster shares the tenants' disk space", "reason", err)
		case err != nil:
			return fmt.Errorf("metadata: %w", err)
		default:
			defer func() { // deferred before the cluster's stop and the run dir's removal: runs after them
				if leaving {
					return // the servers left running use it: the next start takes the mount as it is
				}
				uctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if err := metaReserve.Close(uctx); err != nil {
					log.Error("metadata: unmount the reserve", "err", err)
				}
			}()
			ownDir = metaReserve.Dir()
			diskFS = append(diskFS, reserve.FS{Name: "reserve", Path: ownDir,
				Hint: "the metadata cluster fills it: restart with a larger --meta-reserve"})
			if sp, err := reserve.Statfs(ownDir); err == nil {
				log.Info("metadata: reserve mounted", "dir", ownDir, "image", metaReserve.Image(), "size_bytes", sp.Size, "free_bytes", sp.Free)
			}
		}
	}
	// A full data dir does not stop Grove, whose own state has room
	// elsewhere: the first reading warns, once, before anything starts.
	disk, err := reserve.NewWatch(reserve.WatchConfig{FileSystems: diskFS, Reserve: metaReserve, Logger: log.With("component", "disk")})
	if err != nil {
		return err
	}
	disk.Check()
	diskCtx, stopDisk := context.WithCancel(ctx)
	diskDone := make(chan struct{})
	go func() { disk.Run(diskCtx); close(diskDone) }()
	defer func() { stopDisk(); <-diskDone }()
	// --- end metadata reserve ---

	// Compute sockets live in runDir, which the compute manager owns (it
	// removes folders of computes it does not know); the metadata cluster's
	// socket lives beside it.
	runDir := shortRunDir(ownDir)
	if err := os.MkdirAll(runDir, 0o711); err != nil {
		return fmt.Errorf("run dir: %w", err)
	}
	// Runs last: once every server has stopped, only stale sockets are left.
	defer func() {
		if leaving {
			return // the sockets of the servers left running
		}
		_ = os.RemoveAll(runDir)
		_ = os.RemoveAll(runDir + "-meta")
	}()
	logDir := filepath.Join(cfg.DataDir, "logs")
	// Grove writes every log itself (servers get an open file): no
	// compute's identity may read another's.
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return fmt.Errorf("log dir: %w", err)
	}
	if err := os.Chmod(logDir, 0o700); err != nil {
		return fmt.Errorf("log dir: %w", err)
	}
	if err := os.Lchown(logDir, os.Getuid(), os.Getgid()); err != nil {
		return fmt.Errorf("log dir: %w", err)
	}

	metaURL := cfg.MetaURL
	if metaURL == "" {
		metaLog, err := os.OpenFile(filepath.Join(logDir, "meta.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return err
		}
		defer metaLog.Close()
		metaUser, err := pgrun.EnsureUser(cfg.MetaOSUser)
		if err != nil {
			return err
		}
		clusterDir, metaFS := filepath.Join(cfg.DataDir, "meta"), cfg.DataDir
		if metaReserve != nil {
			clusterDir, metaFS = metaReserve.ClusterDir(), metaReserve.Dir()
		}
		if err := reserve.CheckFree(metaFS, reserve.MinFree); err != nil {
			return metaShortOfSpace(err, cfg.DataDir, metaReserve)
		}
		srv, url, err := metastore.StartInternal(ctx, metastore.Internal{
			DataDir: clusterDir, SocketDir: runDir + "-meta",
			Install: defaultInstall, User: metaUser, Log: metaLog,
		})
		if err != nil {
			return err
		}
		defer func() {
			if leaving {
				log.Info("metadata: cluster left running for the next Grove", "pid", srv.Pid())
				return
			}
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := srv.Stop(sctx); err != nil {
				log.Error("metadata: stop", "err", err)
			}
		}()
		metaURL = url
		log.Info("metadata: internal cluster", "dir", clusterDir, "postgres", defaultInstall.Version)
	} else {
		log.Info("metadata: external store")
	}
	store, err := metastore.Open(ctx, metaURL)
	if err != nil {
		return err
	}
	defer store.Close()

	host := pgconf.Host{MemoryBytes: hostMemory(), CPUs: runtime.NumCPU()}
	if cfg.MaxActive == 0 {
		cfg.MaxActive = int(host.MemoryBytes / (64 << 20))
	}
	// The history manager archives every read-write compute's WAL (the
	// compute manager's archive hook) and materialises past points.
	// Retention is each project's history_retention_seconds, read through
	// the platform, which is made after the history manager.
	var platRef atomic.Pointer[platform.Platform]
	retention := platform.HistoryRetention(store, log.With("component", "platform"))
	hist, err := history.New(history.Config{
		Dir: filepath.Join(cfg.DataDir, "archive"), Volumes: driver, Installs: installs,
		RunDir: runDir + "-hist", Retention: retention,
		Logger: log.With("component", "history"),
	})
	if err != nil {
		return err
	}
	defer os.RemoveAll(runDir + "-hist")
	// --- pooled connections (internal/pooler) ---
	// One PgBouncer per compute behind its -pooler host, started at the
	// first pooled connection and stopped when the compute stops.
	var poolers *pooler.Manager
	var computes *compute.Manager
	var poolerCandidates []string
	if cfg.PgBouncer != "" {
		poolerCandidates = []string{cfg.PgBouncer}
	}
	if bin, err := pooler.Find(ctx, poolerCandidates...); err != nil {
		log.Warn("pooler: PgBouncer not found; -pooler connections are refused", "err", err)
	} else {
		poolers, err = pooler.New(pooler.Config{Binary: bin, User: osUser, Dir: runDir + "-pooler", LogDir: logDir,
			Logger: log.With("component", "pooler")})
		if err != nil {
			return err
		}
		defer os.RemoveAll(runDir + "-pooler")
		attrs := []any{"path", bin.Path, "version", bin.Version, "prepared_statements", bin.PreparedStatements()}
		if !bin.PreparedStatements() {
			attrs = append(attrs, "note", "protocol-level prepared statements need PgBouncer 1.21+ (scripts/setup.sh builds one)")
		}
		log.Info("pooler: PgBouncer", attrs...)
	}
	stopPooler := func(e compute.Event) {
		if poolers == nil || (e.Kind != compute.EventSuspended && e.Kind != compute.EventFailed) {
			return
		}
		go func() {
			if in, ok := computes.Get(e.ID); ok && in.State() == compute.StateActive {
				return // woken again meanwhile: its pooler serves the new compute
			}
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := poolers.Stop(sctx, e.ID); err != nil {
				log.Warn("pooler: stop", "endpoint", e.ID, "err", err)
			}
		}()
	}
	// --- end pooled connections ---
	meterEvent := func(e compute.Event) { // consumption metering
		if p := platRef.Load(); p != nil {
			p.MeterEvent(e)
		}
	}
	// Per-compute cgroups with the limits of the compute's current CU.
	cgroups, cgErr := cgroup.Probe()
	if !cfg.Cgroups {
		cgroups, cgErr = nil, errors.New("disabled by --cgroups=false")
	}
	if cgErr != nil {
		log.Warn("compute: no cgroup limits; Postgres settings still follow each compute's size", "err", cgErr)
		cgroups = nil
	}
	// --- metrics: compute lifecycle events (cold starts), chained after the pooler's ---
	var metRef atomic.Pointer[metrics.Metrics] // set once the metrics are made, below
	var scaling func() metrics.Scaling         // set when the autoscaler runs
	poolerEvent := stopPooler
	stopPooler = func(e compute.Event) {
		poolerEvent(e)
		if m := metRef.Load(); m != nil {
			m.ComputeEvent(e)
		}
	}
	// --- end metrics ---
	// As root, each project's computes run under a uid of their own.
	var identities compute.Identities
	if osUser.Switch {
		if identities, err = osid.Open(filepath.Join(cfg.DataDir, "uids"), osid.DefaultFirst, osid.DefaultCount); err != nil {
			return err
		}
	}
	computes, err = compute.New(compute.Config{
		Installs: installs, User: osUser, Identities: identities, Volumes: driver, RunDir: runDir, LogDir: logDir,
		PoolSize: cfg.PoolSize, PoolMax: cfg.PoolMax, MaxActive: cfg.MaxActive, Host: host, Logger: log.With("component", "compute"),
		Archive: hist, Cgroups: cgroups, CUMemoryBytes: cfg.CUMemory,
	})
	if err != nil {
		return err
	}
	computes.Subscribe(func(e compute.Event) { stopPooler(e); meterEvent(e) })
	hist.SetComputes(computes)
	cgDesc := "none (limits not enforced)"
	if cgroups != nil {
		cgDesc = cgroups.String()
	}
	log.Info("compute: cgroups", "support", cgDesc, "cu_memory", cuMemory(cfg.CUMemory), "run_dir", runDir, "max_active", cfg.MaxActive)
	if err := computes.EnsureTemplates(ctx); err != nil {
		return err
	}

	sealer, err := platform.LoadOrCreateSealer(filepath.Join(cfg.DataDir, "secret.key"))
	if err != nil {
		return err
	}
	pgAdvertise := advertised(cfg.PGAddr)
	var px *proxy.Proxy
	var meterCfg *metering.Config
	sampleEvery := time.Duration(0)
	if cfg.Metering {
		sampleEvery = cfg.MeteringInterval
		meterCfg = &metering.Config{
			Interval: cfg.MeteringInterval, Bucket: cfg.MeteringBucket,
			Transfer: func() map[string]int64 {
				st := px.Stats()
				out := make(map[string]int64, len(st))
				for id, s := range st {
					out[id] = s.BytesOut
				}
				return out
			},
			Logger: log.With("component", "metering"),
		}
	}
	plat, err := platform.New(platform.Config{
		Store: store, Computes: computes, Volumes: driver, Installs: installs, Sealer: sealer,
		ProxyAddr: pgAdvertise, Domain: cfg.Domain, Logger: log.With("component", "platform"),
		History: hist, Metering: meterCfg, SampleInterval: sampleEvery,
	})
	if err != nil {
		return err
	}
	platRef.Store(plat)
	keyFile := filepath.Join(cfg.DataDir, "admin-api-key")
	boot, err := plat.Bootstrap(ctx, func(key string) error {
		return os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
	})
	if err != nil {
		return err
	}
	if boot.Created {
		fmt.Printf("grove: admin API key (also in %s): %s\n", keyFile, boot.APIKey)
	}
	for _, o := range boot.Orgs {
		log.Info("platform: organization", "name", o.Name, "id", o.ID, "plan", o.Plan)
	}
	if err := applyPlans(ctx, plat, cfg.Plans, log); err != nil { // plans.go
		return err
	}
	if err := plat.Reconcile(ctx); err != nil {
		return err
	}

	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	computeDone := make(chan error, 1)
	go func() { computeDone <- computes.Run(runCtx) }()
	histDone := make(chan struct{})
	go func() { hist.Run(runCtx); close(histDone) }()
	defer func() {
		cancelRun()
		<-computeDone
		<-histDone
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if poolers != nil {
			if err := poolers.Close(sctx); err != nil {
				log.Error("pooler: close", "err", err)
			}
		}
		closeComputes := computes.Close
		if leaving {
			closeComputes = computes.Leave
		}
		if err := closeComputes(sctx); err != nil {
			log.Error("compute: close", "err", err)
		}
		log.Info("grove: stopped")
	}()
	// --- autoscaler ---
	if cfg.Autoscale {
		sc, err := autoscale.New(autoscale.Config{
			Computes: computes, Policy: autoscale.Policy{CUMemoryBytes: cfg.CUMemory},
			Logger: log.With("component", "autoscale"),
		})
		if err != nil {
			return err
		}
		scaling = metrics.ScalingOf(sc) // read by /metrics
		scaleDone := make(chan struct{})
		go func() { _ = sc.Run(runCtx); close(scaleDone) }()
		defer func() { cancelRun(); <-scaleDone }() // runs before the computes close
		log.Info("autoscale: running", "interval", time.Second)
	}
	// --- end autoscaler ---

	var cert tls.Certificate
	if cfg.TLSCert != "" {
		cert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	} else {
		cert, err = proxy.LoadOrCreateCert(filepath.Join(cfg.DataDir, "tls"), cfg.Domain)
	}
	if err != nil {
		return fmt.Errorf("proxy certificate: %w", err)
	}
	px, err = proxy.New(proxy.Config{
		TLS:     &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		Domain:  cfg.Domain,
		Backend: backend{p: plat, computes: computes, poolers: poolers},
		Logger:  log.With("component", "proxy"),

		AllowPlaintext: cfg.AllowPlaintext,
	})
	if err != nil {
		return err
	}
	if m := plat.Meter(); m != nil {
		log.Info("metering: on", "interval", m.Interval(), "bucket", m.Bucket())
	} else {
		log.Info("metering: off (--metering=false): no consumption is recorded and quotas are not enforced")
	}
	platDone := make(chan struct{})
	go func() { _ = plat.Run(runCtx); close(platDone) }()
	defer func() { cancelRun(); <-platDone }() // the meter's last flush, before the store closes
	pgLn, err := net.Listen("tcp", cfg.PGAddr)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	apiLn, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	httpLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("data plane: %w", err)
	}
	log.Info("listeners", "api", "http://"+apiLn.Addr().String()+"/api/v2", "proxy", pgLn.Addr().String(),
		"data_plane", "http://"+httpLn.Addr().String(), "domain", cfg.Domain)

	// --- metrics (internal/metrics) ---
	met := metrics.New(metrics.Config{
		ComputeStates: metrics.ComputeStatesOf(computes), Endpoints: store.CountEndpoints,
		Proxy: metrics.TrafficOf(px), Autoscale: scaling,
		Storage: metrics.Storage{Driver: driver.Name(), Root: driver.Root(), Volumes: func(ctx context.Context) (int, error) {
			ids, err := driver.List(ctx)
			return len(ids), err
		}},
		Logger: log.With("component", "metrics"),
	})
	metRef.Store(met)
	met.Registry().MustRegister(proxymetrics.New(px))
	met.Registry().MustRegister(disk) // free space of the data dir and the metadata reserve
	met.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "grove_branches_over_size_limit",
		Help: "Running branches whose writes are refused because they passed their plan's storage quota.",
	}, func() float64 { return float64(plat.BranchesOverSizeLimit()) }))
	met.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "grove_warm_pool_servers",
		Help: "Warm Postgres servers ready to be taken by a create, all versions (sized by recent creates, --pool-size to --pool-max).",
	}, func() float64 { return float64(computes.WarmPool().Ready) }))
	met.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "grove_warm_pool_target",
		Help: "Warm Postgres servers the recent creates ask for, all versions.",
	}, func() float64 { return float64(computes.WarmPool().Target) }))
	met.Registry().MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "grove_warm_pool_memory_bytes",
		Help: "Memory (PSS) held by the ready warm Postgres servers.",
	}, func() float64 { return float64(computes.WarmPoolMemory()) }))
	adminKey, err := os.ReadFile(keyFile)
	if err != nil {
		log.Warn("metrics: no admin API key file; /metrics on the API listener refuses every key", "err", err)
	}
	if cfg.MetricsAddr != "" {
		metLn, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", met.Handler())
		metSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = metSrv.Serve(metLn) }()
		defer metSrv.Close()
		log.Info("metrics: listener without a key", "addr", "http://"+metLn.Addr().String()+"/metrics")
	}
	log.Info("api: rate limits", "per_minute", cfg.RateLimitPerMinute, "per_route_per_second", cfg.RateLimitPerRouteSecond,
		"metrics", "http://"+apiLn.Addr().String()+apiserver.MetricsPath+" (admin API key)")
	// --- end metrics ---
	api := &http.Server{Handler: apiserver.New(apiserver.Config{Platform: plat, Logger: log.With("component", "api"),
		RateLimit:  apiserver.RateLimit{PerMinute: cfg.RateLimitPerMinute, PerRouteBySecond: cfg.RateLimitPerRouteSecond},
		Metrics:    met,
		MetricsKey: strings.TrimSpace(string(adminKey)),
	}),
		ReadHeaderTimeout: 10 * time.Second}
	dataPlane := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"the Data API is not enabled on this endpoint"}`))
	}), ReadHeaderTimeout: 10 * time.Second}

	if cfg.DebugAddr != "" {
		dbgLn, err := net.Listen("tcp", cfg.DebugAddr)
		if err != nil {
			return fmt.Errorf("debug listener: %w", err)
		}
		dbg := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = dbg.Serve(dbgLn) }()
		defer dbg.Close()
		log.Info("debug: pprof", "addr", "http://"+dbgLn.Addr().String()+"/debug/pprof/")
	}

	errc := make(chan error, 3)
	go func() { errc <- px.Serve(runCtx, pgLn) }()
	go func() { errc <- api.Serve(apiLn) }()
	go func() { errc <- dataPlane.Serve(httpLn) }()
	log.Info("grove: ready")

	var serveErr error
	select {
	case <-ctx.Done():
		leaving = terminated(sigs)
	case serveErr = <-errc:
	}
	log.Info("grove: stopping", "leave_computes_running", leaving)
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = api.Shutdown(sctx)
	_ = dataPlane.Shutdown(sctx)
	// Mutations still finishing record their operations; what does not end
	// in time is failed by reconciliation at the next start.
	waited := make(chan struct{})
	go func() { plat.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-sctx.Done():
	}
	cancelRun()
	_ = px.Close()
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// terminated reports whether the signal that ended the context was
// SIGTERM, which leaves the servers running for the next Grove.
func terminated(sigs <-chan os.Signal) bool {
	select {
	case s := <-sigs:
		return s == syscall.SIGTERM
	case <-time.After(100 * time.Millisecond): // ended otherwise
		return false
	}
}

// shortRunDir returns where Unix sockets live: <data-dir>/run when short
// enough for the kernel's socket path limit, else a folder under /tmp named
// after the data dir.
func shortRunDir(dataDir string) string {
	d := filepath.Join(dataDir, "run")
	if len(d) <= compute.MaxRunDirLen {
		return d
	}
	h := sha256.Sum256([]byte(dataDir))
	return filepath.Join(os.TempDir(), "grove-"+hex.EncodeToString(h[:6]))
}

// advertised is the proxy address put in connection strings.
func advertised(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func hostMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 4 << 30
	}
	var kb int64
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "MemTotal:")), "%d", &kb)
		}
	}
	if kb == 0 {
		return 4 << 30
	}
	return kb << 10
}

// parseBytes reads the memory of a Compute Unit (parseSize, at least 64 MiB).
func parseBytes(v string) (int64, error) {
	n, err := parseSize(v)
	if err != nil {
		return 0, err
	}
	if n < 64<<20 {
		return 0, fmt.Errorf("size %q: a Compute Unit needs at least 64 MiB", v)
	}
	return n, nil
}

// parseSize reads a size: a number of bytes, or one with a unit (kB, MB,
// GB: powers of 1024 as in Postgres; KiB, MiB, GiB too).
func parseSize(v string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"kB", 1 << 10}, {"MB", 1 << 20}, {"GB", 1 << 30}, {"B", 1}}
	s, mult := strings.TrimSpace(v), int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("invalid size %q (e.g. 4GiB, 512MiB)", v)
	}
	return n * mult, nil
}

// metaShortOfSpace is the error that stops a start when the metadata
// cluster's file system has too little space: what is free, what is needed
// and what to do.
func metaShortOfSpace(err error, dataDir string, r *reserve.Reserve) error {
	if r != nil {
		return fmt.Errorf("metadata store: %w: the reserve (%s) is full: restart with a larger --meta-reserve (it grows in place with space from the data dir's file system)", err, r.Image())
	}
	return fmt.Errorf("metadata store: %w: free space there (tenants' volumes in %s and WAL archives in %s share it), or run grove as root with --meta-reserve so that the metadata gets space tenants cannot fill",
		err, filepath.Join(dataDir, "volumes"), filepath.Join(dataDir, "archive"))
}

// cuMemory renders the memory of one CU for the start-up log.
func cuMemory(n int64) string {
	if n <= 0 {
		n = pgconf.DefaultCUMemoryBytes
	}
	return strconv.FormatInt(n>>20, 10) + "MiB"
}
