package compute_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/grovedb/grove/internal/compute"
)

// archiver is a compute.Archiver recording its calls.
type archiver struct {
	mu       sync.Mutex
	prepared []string
	running  func(volumeID string) bool
}

// WALDir is a directory no server can write: archiving fails, which these tests do not look at.
func (a *archiver) WALDir(volumeID string) string { return "/nonexistent/" + volumeID }

func (a *archiver) Prepare(ctx context.Context, volumeID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running != nil && a.running(volumeID) {
		panic("Prepare of a running volume")
	}
	a.prepared = append(a.prepared, volumeID)
	return nil
}

func (a *archiver) Owns(volumeID string) bool { return strings.HasPrefix(volumeID, "hist-") }

func (a *archiver) Forget(context.Context, string) error { return nil }

func (a *archiver) count(volumeID string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, v := range a.prepared {
		if v == volumeID {
			n++
		}
	}
	return n
}

// TestArchive checks that read-write computes, warm ones included, run with
// the archiver's settings, that Prepare runs before every start, that a
// Take of a warm instance needs no restart for them, and that Reconcile
// keeps the archiver's volumes.
func TestArchive(t *testing.T) {
	a := &archiver{}
	e := newEnv(t, func(c *compute.Config) { c.Archive, c.PoolSize = a, 1 })
	e.run(t)
	waitFor(t, "warm pool", func() bool { return e.m.PoolLen(e.major) == 1 })
	in, err := e.m.Take(t.Context(), compute.Spec{ID: "ep-arch", Major: e.major, MinCU: 0.25, MaxCU: 2})
	if err != nil {
		t.Fatal(err)
	}
	pid := in.Pid()
	vol := in.VolumeID()
	if got := a.count(vol); got != 1 {
		t.Errorf("Prepare of the warm volume ran %d times, want 1", got)
	}
	for setting, want := range map[string]string{
		"archive_mode": "on", "archive_library": "basic_archive", "archive_command": "",
		"basic_archive.archive_directory": "grove_archive", "archive_timeout": "1min",
	} {
		conn, err := in.Conn(t.Context(), "postgres")
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if err := conn.QueryRow(t.Context(), "SHOW "+setting).Scan(&got); err != nil {
			t.Fatal(err)
		}
		conn.Close(context.Background())
		if got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}
	// The relative archive directory is a link to the volume's archive.
	if got, err := os.Readlink(filepath.Join(in.DataDir(), "grove_archive")); err != nil || got != a.WALDir(vol) {
		t.Errorf("archive link = %q, %v; want %q", got, err, a.WALDir(vol))
	}
	if in.Pid() != pid {
		t.Error("Take restarted the warm instance")
	}
	// Wake after a suspend: Prepare again, before the server starts.
	if err := e.m.Suspend(t.Context(), "ep-arch"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.m.Start(t.Context(), compute.Spec{ID: "ep-arch", VolumeID: vol, Major: e.major}); err != nil {
		t.Fatal(err)
	}
	if got := a.count(vol); got != 2 {
		t.Errorf("Prepare ran %d times after a wake, want 2", got)
	}
	// Reconcile keeps the archiver's volumes.
	if err := e.vols.Clone(t.Context(), vol, "hist-kept"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Reconcile(t.Context(), func(v string) bool { return v == vol }, nil); err != nil {
		t.Fatal(err)
	}
	if !e.vols.Exists("hist-kept") {
		t.Error("Reconcile deleted a volume the archiver owns")
	}
}
