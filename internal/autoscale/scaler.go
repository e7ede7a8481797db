package autoscale

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/grovedb/grove/internal/compute"
)

// Computes is what the Scaler scales; *compute.Manager satisfies it.
type Computes interface {
	Scalable() []compute.Scalable
	Measure(id string) (compute.Measurement, error)
	SetCU(ctx context.Context, id string, cu float64) error
	CacheHits(ctx context.Context, id string) (hit, read int64, err error)
}

var _ Computes = (*compute.Manager)(nil)

// Config configures a Scaler.
type Config struct {
	Computes Computes
	Policy   Policy
	// Interval is how often every compute is sampled (0 → 1 s).
	Interval time.Duration
	// CacheInterval is how often the cache hit ratio of a compute with
	// client connections is read from pg_stat_database (0 → 15 s).
	CacheInterval time.Duration
	Logger        *slog.Logger // nil → discard
	// OnDecision, when set, is called for every decision, applied or not,
	// from the Scaler's goroutine; it must not block.
	OnDecision func(Event)
}

// Validate fills defaults.
func (c *Config) Validate() error {
	if c.Computes == nil {
		return errors.New("autoscale: no computes")
	}
	c.Policy = c.Policy.WithDefaults()
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.CacheInterval <= 0 {
		c.CacheInterval = 15 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// Event is one decision of the Scaler.
type Event struct {
	Time time.Time
	ID   string // compute (endpoint) id
	Decision
	// Err is why applying the decision failed; the size did not change.
	Err error
}

// Stats are the Scaler's counters, for metrics.
type Stats struct {
	Ups, Downs, Failures uint64
	// CU is each scaled compute's current size.
	CU map[string]float64
}

// maxEvents is how many recent decisions Events keeps.
const maxEvents = 256

// Scaler samples every active compute and resizes it. See the package doc.
type Scaler struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	comps  map[string]*tracked
	stats  Stats
	events []Event
}

type tracked struct {
	st        State
	startedAt time.Time
	prev      compute.Measurement
	// Cache hit counters at the last read, and the ratio since the one before.
	hit, read int64
	hitAt     time.Time
	ratio     float64
}

// New returns a Scaler; Run starts it.
func New(cfg Config) (*Scaler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Scaler{cfg: cfg, log: cfg.Logger, comps: map[string]*tracked{}}, nil
}

// Run samples every Interval until ctx ends.
func (s *Scaler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	for {
		s.tick(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Stats returns the counters and every scaled compute's current size.
func (s *Scaler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.CU = make(map[string]float64, len(s.comps))
	for id, c := range s.comps {
		out.CU[id] = c.st.CU
	}
	return out
}

// Events returns the recent decisions, oldest first.
func (s *Scaler) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

func (s *Scaler) tick(ctx context.Context) {
	live := map[string]bool{}
	for _, c := range s.cfg.Computes.Scalable() {
		if ctx.Err() != nil {
			return
		}
		live[c.ID] = true
		s.scale(ctx, c)
	}
	s.mu.Lock()
	for id := range s.comps {
		if !live[id] {
			delete(s.comps, id)
		}
	}
	s.mu.Unlock()
}

// scale samples one compute and applies the policy's decision.
func (s *Scaler) scale(ctx context.Context, c compute.Scalable) {
	s.mu.Lock()
	t := s.comps[c.ID]
	fresh := t == nil || !t.startedAt.Equal(c.StartedAt)
	if fresh {
		t = &tracked{st: NewState(c.MinCU), startedAt: c.StartedAt, ratio: -1}
		s.comps[c.ID] = t
	} else {
		t.st.CU = c.CU // the manager's size is the truth (a Resize may have moved it)
	}
	s.mu.Unlock()
	if fresh {
		// A new server starts at its minimum, as Neon's do: a taken warm
		// instance ran at its maximum until now. This also brings its
		// reloadable settings to its size.
		if err := s.cfg.Computes.SetCU(ctx, c.ID, c.MinCU); err != nil {
			s.log.Debug("autoscale: apply size", "compute", c.ID, "cu", c.MinCU, "err", err)
			s.mu.Lock()
			delete(s.comps, c.ID) // try again at the next tick
			s.mu.Unlock()
			return
		}
	}

	if c.MinCU >= c.MaxCU {
		return // a fixed size: nothing to decide
	}
	ms, err := s.cfg.Computes.Measure(c.ID)
	if err != nil {
		return // suspended or restarting meanwhile
	}
	smp := Sample{Time: ms.Time, Runnable: ms.Runnable, Memory: ms.Anon, WorkingSet: ms.WorkingSet, CacheHitRatio: -1}
	if !t.prev.Time.IsZero() && t.prev.StartedAt.Equal(ms.StartedAt) && ms.Time.After(t.prev.Time) {
		smp.CPU = max(float64(ms.CPU-t.prev.CPU)/float64(ms.Time.Sub(t.prev.Time)), 0)
	}
	t.prev = ms
	if fresh {
		// The first measurement of a server is only a baseline: its
		// start-up (and a Take's set-up) is no load to scale for.
		return
	}
	if c.Conns > 0 && ms.Time.Sub(t.hitAt) >= s.cfg.CacheInterval {
		s.readCache(ctx, c.ID, t, ms.Time)
	}
	smp.CacheHitRatio = t.ratio

	s.mu.Lock()
	next, d, ok := s.cfg.Policy.Decide(t.st, Range{c.MinCU, c.MaxCU}, smp)
	t.st = next
	s.mu.Unlock()
	if !ok {
		return
	}
	ev := Event{Time: ms.Time, ID: c.ID, Decision: d}
	ev.Err = s.cfg.Computes.SetCU(ctx, c.ID, d.To)
	s.mu.Lock()
	switch {
	case ev.Err != nil:
		t.st.CU = d.From
		s.stats.Failures++
	case d.To > d.From:
		s.stats.Ups++
	default:
		s.stats.Downs++
	}
	s.events = append(s.events, ev)
	if len(s.events) > maxEvents {
		s.events = append(s.events[:0:0], s.events[len(s.events)-maxEvents:]...)
	}
	s.mu.Unlock()
	attrs := []any{slog.String("compute", c.ID), slog.Float64("from_cu", d.From), slog.Float64("to_cu", d.To),
		slog.String("reason", d.Reason), slog.Float64("goal_cu", d.Goal), slog.Float64("load", d.Load),
		slog.Int64("memory", smp.Memory), slog.Int64("working_set", smp.WorkingSet)}
	if ev.Err != nil {
		s.log.Warn("autoscale: resize failed", append(attrs, slog.Any("err", ev.Err))...)
	} else {
		s.log.Info("autoscale: resized", attrs...)
	}
	if s.cfg.OnDecision != nil {
		s.cfg.OnDecision(ev)
	}
}

// readCache updates t's cache hit ratio from pg_stat_database: the share
// of hits among the blocks read since the previous read (unknown below
// 100 blocks).
func (s *Scaler) readCache(ctx context.Context, id string, t *tracked, now time.Time) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	hit, read, err := s.cfg.Computes.CacheHits(cctx, id)
	t.hitAt = now
	if err != nil {
		s.log.Debug("autoscale: cache hits", "compute", id, "err", err)
		return
	}
	dh, dr := hit-t.hit, read-t.read
	if t.hit+t.read > 0 && dh >= 0 && dr >= 0 && dh+dr >= 100 {
		t.ratio = float64(dh) / float64(dh+dr)
	} else if t.hit+t.read > 0 {
		t.ratio = -1
	}
	t.hit, t.read = hit, read
}
