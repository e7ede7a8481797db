// Package metering accounts consumption in memory — compute active time and
// CU-seconds, WAL written, proxy egress — per endpoint and time bucket (an
// hour), and hands what it gathered to a sink every interval. Nothing here
// runs per packet or per connection: the proxy's byte counters are atomics it
// keeps anyway, read once per interval, and compute activity comes from the
// compute manager's lifecycle events, checked against the running computes
// once per interval.
//
// A Meter's methods are safe for concurrent use; Run owns the flush loop.
package metering

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults.
const (
	DefaultInterval = 30 * time.Second
	DefaultBucket   = time.Hour
)

// Usage is consumption within one bucket.
type Usage struct {
	ActiveSeconds  float64 // wall-clock seconds the compute was active
	ComputeSeconds float64 // CU × active seconds
	WrittenBytes   int64   // WAL bytes written
	TransferBytes  int64   // proxy egress bytes (compute → client)
}

func (u *Usage) add(o Usage) {
	u.ActiveSeconds += o.ActiveSeconds
	u.ComputeSeconds += o.ComputeSeconds
	u.WrittenBytes += o.WrittenBytes
	u.TransferBytes += o.TransferBytes
}

func (u Usage) zero() bool { return u == Usage{} }

// Record is one endpoint's usage in the bucket starting at Start.
type Record struct {
	Endpoint string
	Start    time.Time
	Usage
}

// Config configures a Meter.
type Config struct {
	// Interval is how often Run samples and flushes (DefaultInterval when zero).
	Interval time.Duration
	// Bucket is the length of a usage bucket, aligned on the Unix epoch
	// (DefaultBucket when zero); tests shorten it.
	Bucket time.Duration
	// Active returns the running computes and the CU each runs at now. Run
	// calls it every interval to follow size changes and to repair missed
	// lifecycle events. Optional.
	Active func() map[string]float64
	// Transfer returns each endpoint's cumulative egress bytes (the proxy's
	// counters); Run books the growth since the previous call. Optional.
	Transfer func() map[string]int64
	// Sink stores a flush. On error the records are kept for the next one.
	Sink   func(ctx context.Context, recs []Record) error
	Logger *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Validate fills defaults and checks c.
func (c *Config) Validate() error {
	if c.Sink == nil {
		return errors.New("metering: a sink is required")
	}
	if c.Interval < 0 || c.Bucket < 0 {
		return errors.New("metering: negative interval or bucket")
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Bucket == 0 {
		c.Bucket = DefaultBucket
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

type key struct {
	endpoint string
	start    time.Time
}

// span is a compute active since a time at a size.
type span struct {
	since time.Time
	cu    float64
}

// Meter accumulates usage. The zero value is not usable; call New.
type Meter struct {
	cfg Config

	mu       sync.Mutex
	open     map[string]*span
	acc      map[key]*Usage
	transfer map[string]int64 // last cumulative egress seen per endpoint
}

// New returns a Meter.
func New(cfg Config) (*Meter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Meter{cfg: cfg, open: map[string]*span{}, acc: map[key]*Usage{}, transfer: map[string]int64{}}, nil
}

// Interval is the configured flush interval.
func (m *Meter) Interval() time.Duration { return m.cfg.Interval }

// Bucket is the configured bucket length.
func (m *Meter) Bucket() time.Duration { return m.cfg.Bucket }

// BucketStart is the start of the bucket holding t.
func (m *Meter) BucketStart(t time.Time) time.Time { return t.UTC().Truncate(m.cfg.Bucket) }

// Started opens endpoint's active span at t (an already open one is kept).
func (m *Meter) Started(endpoint string, t time.Time, cu float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.open[endpoint]; !ok {
		m.open[endpoint] = &span{since: t, cu: cu}
	}
}

// Stopped closes endpoint's active span at t.
func (m *Meter) Stopped(endpoint string, t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.open[endpoint]; ok {
		m.accrue(endpoint, s, t)
		delete(m.open, endpoint)
	}
}

// AddWritten books n WAL bytes written by endpoint's compute at t.
func (m *Meter) AddWritten(endpoint string, t time.Time, n int64) {
	if n <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage(endpoint, t).WrittenBytes += n
}

// AddTransfer books n egress bytes of endpoint at t.
func (m *Meter) AddTransfer(endpoint string, t time.Time, n int64) {
	if n <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage(endpoint, t).TransferBytes += n
}

// Sync brings the open spans in line with the computes active at t and the
// CU each runs at: time up to t is booked at the previous size, spans of
// computes no longer active close, active computes without a span open one.
func (m *Meter) Sync(t time.Time, active map[string]float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, s := range m.open {
		m.accrue(id, s, t)
		cu, ok := active[id]
		if !ok {
			delete(m.open, id)
			continue
		}
		s.cu = cu
	}
	for id, cu := range active {
		if _, ok := m.open[id]; !ok {
			m.open[id] = &span{since: t, cu: cu}
		}
	}
}

// ObserveTransfer books the growth of cumulative egress counters since the
// previous observation at t. A counter seen for the first time is booked
// whole: the proxy starts with the process, as the meter does.
func (m *Meter) ObserveTransfer(t time.Time, totals map[string]int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, n := range totals {
		d := n - m.transfer[id]
		if d < 0 {
			d = n // a restarted counter
		}
		m.transfer[id] = n
		if d > 0 {
			m.usage(id, t).TransferBytes += d
		}
	}
}

// Drain books the open spans up to t and returns and forgets everything
// accumulated, oldest bucket first.
func (m *Meter) Drain(t time.Time) []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, s := range m.open {
		m.accrue(id, s, t)
	}
	out := make([]Record, 0, len(m.acc))
	for k, u := range m.acc {
		if !u.zero() {
			out = append(out, Record{Endpoint: k.endpoint, Start: k.start, Usage: *u})
		}
	}
	clear(m.acc)
	sortRecords(out)
	return out
}

// restore puts back records a failed flush did not store.
func (m *Meter) restore(recs []Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range recs {
		m.usage(r.Endpoint, r.Start).add(r.Usage)
	}
}

// usage returns the accumulator of endpoint's bucket at t; m.mu is held.
func (m *Meter) usage(endpoint string, t time.Time) *Usage {
	k := key{endpoint, m.BucketStart(t)}
	u := m.acc[k]
	if u == nil {
		u = &Usage{}
		m.acc[k] = u
	}
	return u
}

// accrue books s from s.since to t, split at bucket boundaries, and moves
// s.since to t; m.mu is held.
func (m *Meter) accrue(endpoint string, s *span, t time.Time) {
	for s.since.Before(t) {
		end := m.BucketStart(s.since).Add(m.cfg.Bucket)
		if end.After(t) {
			end = t
		}
		sec := end.Sub(s.since).Seconds()
		u := m.usage(endpoint, s.since)
		u.ActiveSeconds += sec
		u.ComputeSeconds += sec * s.cu
		s.since = end
	}
}

// Flush samples the sources, drains and stores; on a sink error the records
// are kept for the next flush.
func (m *Meter) Flush(ctx context.Context) error {
	t := m.cfg.Now()
	if m.cfg.Active != nil {
		m.Sync(t, m.cfg.Active())
	}
	if m.cfg.Transfer != nil {
		m.ObserveTransfer(t, m.cfg.Transfer())
	}
	recs := m.Drain(t)
	if len(recs) == 0 {
		return nil
	}
	if err := m.cfg.Sink(ctx, recs); err != nil {
		m.restore(recs)
		return err
	}
	return nil
}

// Run flushes every interval until ctx ends, then flushes once more.
func (m *Meter) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if err := m.Flush(fctx); err != nil {
				m.cfg.Logger.Warn("metering: final flush", "err", err)
			}
			return
		case <-t.C:
		}
		if err := m.Flush(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Logger.Warn("metering: flush", "err", err)
		}
	}
}

func sortRecords(rs []Record) {
	slices.SortFunc(rs, func(a, b Record) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.Endpoint, b.Endpoint)
	})
}
