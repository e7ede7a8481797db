package metering

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 10, 59, 0, 0, time.UTC)

func newMeter(t *testing.T, sink func(context.Context, []Record) error) *Meter {
	t.Helper()
	if sink == nil {
		sink = func(context.Context, []Record) error { return nil }
	}
	m, err := New(Config{Sink: sink})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestMeterSpans(t *testing.T) {
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	tests := []struct {
		name string
		run  func(m *Meter)
		want []Record // at Drain(at(600))
	}{
		{"one span within an hour", func(m *Meter) {
			m.Started("ep-a", at(0), 1)
			m.Stopped("ep-a", at(30))
		}, []Record{{Endpoint: "ep-a", Start: at(-59 * 60).Truncate(time.Hour), Usage: Usage{ActiveSeconds: 30, ComputeSeconds: 30}}}},
		{"a span across the hour is split", func(m *Meter) {
			m.Started("ep-a", at(0), 0.25)
			m.Stopped("ep-a", at(120))
		}, []Record{
			{Endpoint: "ep-a", Start: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Usage: Usage{ActiveSeconds: 60, ComputeSeconds: 15}},
			{Endpoint: "ep-a", Start: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), Usage: Usage{ActiveSeconds: 60, ComputeSeconds: 15}},
		}},
		{"an open span is booked up to the drain", func(m *Meter) {
			m.Started("ep-a", at(60), 2)
		}, []Record{{Endpoint: "ep-a", Start: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), Usage: Usage{ActiveSeconds: 540, ComputeSeconds: 1080}}}},
		{"sync follows a size change and closes a missed stop", func(m *Meter) {
			m.Started("ep-a", at(60), 1)
			m.Sync(at(120), map[string]float64{"ep-a": 4, "ep-b": 1})
			m.Sync(at(180), map[string]float64{"ep-b": 1})
			m.Stopped("ep-b", at(240))
		}, []Record{
			{Endpoint: "ep-a", Start: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), Usage: Usage{ActiveSeconds: 120, ComputeSeconds: 60 + 240}},
			{Endpoint: "ep-b", Start: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), Usage: Usage{ActiveSeconds: 120, ComputeSeconds: 120}},
		}},
		{"a second start keeps the first span", func(m *Meter) {
			m.Started("ep-a", at(60), 1)
			m.Started("ep-a", at(90), 1)
			m.Stopped("ep-a", at(120))
			m.Stopped("ep-a", at(150))
		}, []Record{{Endpoint: "ep-a", Start: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), Usage: Usage{ActiveSeconds: 60, ComputeSeconds: 60}}}},
		{"transfer and written bytes", func(m *Meter) {
			m.ObserveTransfer(at(60), map[string]int64{"ep-a": 100})
			m.ObserveTransfer(at(70), map[string]int64{"ep-a": 250, "ep-b": 0})
			m.AddWritten("ep-a", at(80), 4096)
			m.AddWritten("ep-a", at(80), -1)
		}, []Record{{Endpoint: "ep-a", Start: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), Usage: Usage{WrittenBytes: 4096, TransferBytes: 250}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMeter(t, nil)
			tc.run(m)
			got := m.Drain(at(600))
			if len(got) != len(tc.want) {
				t.Fatalf("records = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.Endpoint != w.Endpoint || !g.Start.Equal(w.Start) || !near(g.ActiveSeconds, w.ActiveSeconds) ||
					!near(g.ComputeSeconds, w.ComputeSeconds) || g.WrittenBytes != w.WrittenBytes || g.TransferBytes != w.TransferBytes {
					t.Errorf("record %d = %+v, want %+v", i, g, w)
				}
			}
			if again := m.Drain(at(600)); len(again) != 0 {
				t.Errorf("second drain = %+v, want nothing", again)
			}
		})
	}
}

func TestFlushKeepsRecordsOnSinkError(t *testing.T) {
	fail := true
	var stored []Record
	now := t0
	m, err := New(Config{
		Now:      func() time.Time { return now },
		Transfer: func() map[string]int64 { return map[string]int64{"ep-a": 10} },
		Sink: func(_ context.Context, recs []Record) error {
			if fail {
				return errors.New("store down")
			}
			stored = append(stored, recs...)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Flush(t.Context()); err == nil {
		t.Fatal("flush succeeded with a failing sink")
	}
	fail = false
	if err := m.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].TransferBytes != 10 {
		t.Fatalf("stored = %+v, want the 10 bytes of the failed flush once", stored)
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without a sink succeeded")
	}
	if _, err := New(Config{Sink: func(context.Context, []Record) error { return nil }, Interval: -1}); err == nil {
		t.Error("New with a negative interval succeeded")
	}
}
