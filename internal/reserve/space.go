package reserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

// MinFree is the free space the metadata cluster's file system needs for
// Grove to start: room for a checkpoint, a few WAL segments and the
// migrations of a start.
const MinFree = 64 << 20

// Space is the size of a file system and its free space, as an unprivileged
// user (a Postgres server) sees it.
type Space struct{ Size, Free int64 }

// Statfs returns the space of the file system holding path.
func Statfs(path string) (Space, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return Space{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	return Space{Size: int64(st.Blocks) * st.Bsize, Free: int64(st.Bavail) * st.Bsize}, nil
}

// ShortError is a file system with less free space than a start needs.
type ShortError struct {
	Path       string
	Free, Need int64
}

func (e *ShortError) Error() string {
	return fmt.Sprintf("only %s free on the file system of %s; %s needed", human(e.Free), e.Path, human(e.Need))
}

// CheckFree returns a *ShortError when the file system holding path has
// less than need free.
func CheckFree(path string, need int64) error {
	sp, err := Statfs(path)
	if err != nil {
		return err
	}
	if sp.Free < need {
		return &ShortError{Path: path, Free: sp.Free, Need: need}
	}
	return nil
}

// lowMark is the free space under which a file system of size counts as
// low: 5% of it, at most 4 GiB.
func lowMark(size int64) int64 { return min(size/20, 4<<30) }

// level says whether a file system is low on space. It turns low under
// lowMark and back above twice that, so that space hovering at the mark is
// reported once.
type level struct{ low bool }

// update takes a new reading and reports whether the level changed.
func (l *level) update(sp Space) bool {
	mark := lowMark(sp.Size)
	switch {
	case !l.low && sp.Free < mark:
		l.low = true
		return true
	case l.low && sp.Free >= 2*mark:
		l.low = false
		return true
	}
	return false
}

// FS is a file system Watch reports, named by a path on it.
type FS struct {
	Name string // the metrics' fs label: data, reserve
	Path string
	// Hint ends the warning when it runs low: what fills it and what to do.
	Hint string
}

// WatchConfig configures a Watch.
type WatchConfig struct {
	FileSystems []FS
	Interval    time.Duration // between readings; 0 → 10 s
	// Reserve, when not nil, is kept whole at each reading (Reserve.Keep).
	Reserve *Reserve
	Logger  *slog.Logger // nil → discard
}

// Validate reports whether c can be used.
func (c WatchConfig) Validate() error {
	if len(c.FileSystems) == 0 {
		return errors.New("reserve: watch: no file systems")
	}
	seen := map[string]bool{}
	for _, f := range c.FileSystems {
		if f.Name == "" || f.Path == "" || seen[f.Name] {
			return fmt.Errorf("reserve: watch: file system %+v needs a unique name and a path", f)
		}
		seen[f.Name] = true
	}
	return nil
}

// Watch reads the free space of file systems: it logs one warning when one
// runs low and one line when it recovers, and it is a Prometheus collector
// of their sizes, free space and levels.
type Watch struct {
	cfg    WatchConfig
	log    *slog.Logger
	statfs func(path string) (Space, error) // Statfs; tests replace it

	mu      sync.Mutex
	levels  map[string]*level
	failing map[string]bool // statfs failed at the last reading
	keepErr bool            // Reserve.Keep failed at the last reading
}

var _ prometheus.Collector = (*Watch)(nil)

// NewWatch returns a Watch of cfg's file systems.
func NewWatch(cfg WatchConfig) (*Watch, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Watch{cfg: cfg, log: cfg.Logger, statfs: Statfs, levels: map[string]*level{}, failing: map[string]bool{}}
	for _, f := range cfg.FileSystems {
		w.levels[f.Name] = &level{}
	}
	return w, nil
}

// Run reads the file systems now and at each interval until ctx ends.
func (w *Watch) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		w.Check()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check reads every file system once, logging changes of level.
func (w *Watch) Check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.cfg.FileSystems {
		sp, err := w.statfs(f.Path)
		if err != nil {
			if !w.failing[f.Name] {
				w.log.Warn("disk: cannot read free space", "fs", f.Name, "path", f.Path, "err", err)
			}
			w.failing[f.Name] = true
			continue
		}
		w.failing[f.Name] = false
		if !w.levels[f.Name].update(sp) {
			continue
		}
		attrs := []any{"fs", f.Name, "path", f.Path, "free", human(sp.Free), "size", human(sp.Size)}
		if w.levels[f.Name].low {
			attrs = append(attrs, "below", human(lowMark(sp.Size)))
			if f.Hint != "" {
				attrs = append(attrs, "hint", f.Hint)
			}
			w.log.Warn("disk: file system low on space", attrs...)
		} else {
			w.log.Info("disk: file system has space again", attrs...)
		}
	}
	if r := w.cfg.Reserve; r != nil {
		n, err := r.Keep()
		switch {
		case err != nil && !w.keepErr:
			w.log.Warn("disk: the reserve's image lost part of its allocation and could not take it back", "image", r.Image(), "err", err)
		case n > 0:
			w.log.Info("disk: allocated again what a discard took from the reserve's image", "image", r.Image(), "bytes", n)
		}
		w.keepErr = err != nil
	}
}

var (
	descFree = prometheus.NewDesc("grove_disk_free_bytes",
		"Bytes free to unprivileged users (Postgres) on Grove's file systems: data (volumes, WAL archive, logs) and reserve (the metadata cluster's, which tenants cannot fill).",
		[]string{"fs"}, nil)
	descSize = prometheus.NewDesc("grove_disk_size_bytes",
		"Size of Grove's file systems (data, reserve).", []string{"fs"}, nil)
	descLow = prometheus.NewDesc("grove_disk_low",
		"1 while a file system is low on space: under 5% free (at most 4 GiB), until it is back over twice that.",
		[]string{"fs"}, nil)
)

func (w *Watch) Describe(ch chan<- *prometheus.Desc) {
	ch <- descFree
	ch <- descSize
	ch <- descLow
}

// Collect reads the file systems' space at scrape time; their levels are
// those of the last reading.
func (w *Watch) Collect(ch chan<- prometheus.Metric) {
	for _, f := range w.cfg.FileSystems {
		sp, err := w.statfs(f.Path)
		if err != nil {
			continue
		}
		w.mu.Lock()
		low := w.levels[f.Name].low
		w.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(descFree, prometheus.GaugeValue, float64(sp.Free), f.Name)
		ch <- prometheus.MustNewConstMetric(descSize, prometheus.GaugeValue, float64(sp.Size), f.Name)
		ch <- prometheus.MustNewConstMetric(descLow, prometheus.GaugeValue, b2f(low), f.Name)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// human renders bytes for people: 512 B, 64 MiB, 1.5 GiB.
func human(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 || v >= 100 || v == float64(int64(v)) {
		return strconv.FormatFloat(v, 'f', 0, 64) + " " + units[i]
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + units[i]
}
