package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/grovedb/grove/internal/apiserver"
	"github.com/grovedb/grove/internal/metering"
	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/reserve"
)

// serveConfig is grove serve's configuration, from flags.
type serveConfig struct {
	DataDir  string
	APIAddr  string
	PGAddr   string
	HTTPAddr string
	// JWKSAllowPrivate lets the Data API fetch JWKS URLs on loopback and
	// private networks.
	JWKSAllowPrivate bool
	Domain           string
	MetaURL          string
	StorageDriver    string
	PoolSize         int
	PoolMax          int
	MaxActive        int
	OSUser           string
	MetaOSUser       string
	TLSCert          string
	TLSKey           string
	LogLevel         string
	DebugAddr        string
	PgBouncer        string
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
	fs.BoolVar(&c.JWKSAllowPrivate, "jwks-allow-private", false, "let Data API configurations name JWKS URLs on this host or private networks (an identity provider inside your network); off, a tenant's jwks_url reaches only public addresses")
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
	if c.MaxActive == 0 {
		c.MaxActive = int(hostMemory() / (64 << 20))
	}
	return c, nil
}

// newLogger returns the process's logger at --log-level, also made the
// default one.
func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
	slog.SetDefault(log)
	return log, nil
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

// cuMemory renders the memory of one CU for the start-up log.
func cuMemory(n int64) string {
	if n <= 0 {
		n = pgconf.DefaultCUMemoryBytes
	}
	return strconv.FormatInt(n>>20, 10) + "MiB"
}
