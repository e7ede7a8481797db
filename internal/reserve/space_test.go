package reserve

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestLowMark(t *testing.T) {
	for _, tc := range []struct{ size, want int64 }{
		{0, 0},
		{1 << 30, 1 << 30 / 20},
		{80 << 30, 4 << 30},
		{10 << 40, 4 << 30},
	} {
		if got := lowMark(tc.size); got != tc.want {
			t.Errorf("lowMark(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}

// TestLevel: a file system turns low under 5% free and back only above
// 10%, so that space hovering at the mark changes the level once.
func TestLevel(t *testing.T) {
	const size = 1000 << 20 // mark: 50 MiB
	steps := []struct {
		free        int64
		low, change bool
	}{
		{500 << 20, false, false},
		{51 << 20, false, false},
		{49 << 20, true, true},
		{0, true, false},
		{51 << 20, true, false}, // over the mark, under twice it
		{99 << 20, true, false},
		{100 << 20, false, true},
		{49 << 20, true, true},
	}
	var l level
	for i, s := range steps {
		change := l.update(Space{Size: size, Free: s.free})
		if change != s.change || l.low != s.low {
			t.Errorf("step %d (free %d): change %v low %v, want %v %v", i, s.free, change, l.low, s.change, s.low)
		}
	}
}

func TestHuman(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{64 << 20, "64 MiB"},
		{3 << 29, "1.5 GiB"},
		{1020702720, "973 MiB"},
	} {
		if got := human(tc.n); got != tc.want {
			t.Errorf("human(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestCheckFree(t *testing.T) {
	dir := t.TempDir()
	if err := CheckFree(dir, 0); err != nil {
		t.Errorf("CheckFree(0): %v", err)
	}
	err := CheckFree(dir, 1<<60)
	var short *ShortError
	if !errors.As(err, &short) || short.Need != 1<<60 || short.Path != dir {
		t.Fatalf("CheckFree(1 EiB) = %v, want a ShortError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "free on the file system of "+dir) || !strings.Contains(msg, "1024 PiB needed") {
		t.Errorf("message %q says neither what is free nor what is needed", msg)
	}
	if err := CheckFree(dir+"/missing", 0); err == nil || errors.As(err, &short) {
		t.Errorf("CheckFree of a missing path: %v, want a statfs error", err)
	}
}

func TestWatchConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   []FS
		ok   bool
	}{
		{"none", nil, false},
		{"one", []FS{{Name: "data", Path: "/"}}, true},
		{"no path", []FS{{Name: "data"}}, false},
		{"twice", []FS{{Name: "data", Path: "/"}, {Name: "data", Path: "/tmp"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := (WatchConfig{FileSystems: tc.fs}).Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestWatch: a file system that fills up and stays full is logged once,
// its recovery once, a failing statfs once; the collector reports each
// file system's space and level.
func TestWatch(t *testing.T) {
	var logs bytes.Buffer
	w, err := NewWatch(WatchConfig{
		FileSystems: []FS{{Name: "data", Path: "/data", Hint: "free space"}, {Name: "reserve", Path: "/data/meta"}},
		Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	const size = 1000 << 20
	free := map[string]int64{"/data": 500 << 20, "/data/meta": 900 << 20}
	var statErr error
	w.statfs = func(p string) (Space, error) {
		if p == "/data/meta" && statErr != nil {
			return Space{}, statErr
		}
		return Space{Size: size, Free: free[p]}, nil
	}
	count := func(s string) int { return strings.Count(logs.String(), s) }

	w.Check()
	free["/data"] = 10 << 20
	for range 5 {
		w.Check()
	}
	if n := count("disk: file system low on space"); n != 1 {
		t.Errorf("%d low-space warnings for a file system that stayed full, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "fs=data") || !strings.Contains(logs.String(), `hint="free space"`) {
		t.Errorf("the warning does not name the file system and its hint:\n%s", logs.String())
	}
	want := `
# HELP grove_disk_low 1 while a file system is low on space: under 5% free (at most 4 GiB), until it is back over twice that.
# TYPE grove_disk_low gauge
grove_disk_low{fs="data"} 1
grove_disk_low{fs="reserve"} 0
# HELP grove_disk_free_bytes Bytes free to unprivileged users (Postgres) on Grove's file systems: data (volumes, WAL archive, logs) and reserve (the metadata cluster's, which tenants cannot fill).
# TYPE grove_disk_free_bytes gauge
grove_disk_free_bytes{fs="data"} 1.048576e+07
grove_disk_free_bytes{fs="reserve"} 9.437184e+08
`
	reg := prometheus.NewRegistry()
	reg.MustRegister(w)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "grove_disk_low", "grove_disk_free_bytes"); err != nil {
		t.Error(err)
	}

	free["/data"] = 400 << 20
	w.Check()
	w.Check()
	if n := count("disk: file system has space again"); n != 1 {
		t.Errorf("%d recovery lines, want 1:\n%s", n, logs.String())
	}

	statErr = errors.New("boom")
	w.Check()
	w.Check()
	if n := count("disk: cannot read free space"); n != 1 {
		t.Errorf("%d statfs failures logged, want 1:\n%s", n, logs.String())
	}
	if n, err := testutil.GatherAndCount(reg, "grove_disk_free_bytes"); err != nil || n != 1 {
		t.Errorf("free bytes series with reserve unreadable: %d, %v; want only data's", n, err)
	}
}
