package pgconf_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grovedb/grove/internal/pgconf"
	"github.com/grovedb/grove/internal/pgtest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestMaxConnections(t *testing.T) {
	tests := []struct {
		cu   float64
		want int
	}{
		{0.25, 104}, {0.5, 209}, {1, 419}, {2, 839}, {3, 1258}, {4, 1678},
		{5, 2098}, {6, 2517}, {7, 2937}, {8, 3357}, {9, 4000}, {16, 4000}, {56, 4000},
		{0.1, 104}, {1.5, 629},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.cu), func(t *testing.T) {
			if got := pgconf.MaxConnections(tt.cu); got != tt.want {
				t.Fatalf("MaxConnections(%v) = %d, want %d", tt.cu, got, tt.want)
			}
		})
	}
}

const gib = int64(1) << 30

func TestSize(t *testing.T) {
	big := pgconf.Host{MemoryBytes: 64 * gib, CPUs: 16}
	tests := []struct {
		name       string
		min, max   float64
		host       pgconf.Host
		cuMem      int64
		conns      int
		sharedBufs int64
		workMem    int64
	}{
		{"fixed 0.25", 0.25, 0.25, big, 0, 104, 64 << 20, 4 << 20},
		{"fixed 1", 1, 1, big, 0, 419, 256 << 20, 16 << 20},
		{"autoscale 0.25-2", 0.25, 2, big, 0, 839, 64 << 20, 32 << 20},
		{"autoscale bounded by min", 0.25, 8, big, 0, 839, 64 << 20, 128 << 20},
		{"autoscale 1-4", 1, 4, big, 0, 1678, 256 << 20, 64 << 20},
		{"fixed 16 capped", 16, 16, big, 0, 4000, 1 << 30, 256 << 20},
		{"small host", 1, 1, pgconf.Host{MemoryBytes: 2 * gib, CPUs: 2}, 0, 419, 32 << 20, 8 << 20},
		{"small CU memory", 0.25, 0.25, big, 1 * gib, 104, 16 << 20, 4 << 20},
		{"unknown host", 2, 2, pgconf.Host{}, 0, 839, 512 << 20, 32 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := pgconf.Size(tt.min, tt.max, tt.host, tt.cuMem)
			if s.MaxConnections != tt.conns {
				t.Errorf("max_connections = %d, want %d", s.MaxConnections, tt.conns)
			}
			if s.SharedBuffers != tt.sharedBufs {
				t.Errorf("shared_buffers = %d MB, want %d MB", s.SharedBuffers>>20, tt.sharedBufs>>20)
			}
			if s.WorkMem != tt.workMem {
				t.Errorf("work_mem = %d MB, want %d MB", s.WorkMem>>20, tt.workMem>>20)
			}
			if s.SuperuserReservedConnections != 7 {
				t.Errorf("superuser_reserved_connections = %d, want 7", s.SuperuserReservedConnections)
			}
			if s.MaxParallelWorkers > s.MaxWorkerProcesses || s.MaxParallelWorkersPerGather > s.MaxParallelWorkers {
				t.Errorf("inconsistent workers: %+v", s)
			}
			if tt.host.MemoryBytes > 0 && s.EffectiveCacheSize > tt.host.MemoryBytes {
				t.Errorf("effective_cache_size %d above host memory", s.EffectiveCacheSize)
			}
		})
	}
}

func TestRenderGolden(t *testing.T) {
	host := pgconf.Host{MemoryBytes: 24 * gib, CPUs: 2}
	tests := []struct {
		name     string
		settings pgconf.Settings
	}{
		{"cu-0.25", pgconf.Size(0.25, 0.25, host, 0)},
		{"cu-0.25-2", pgconf.Size(0.25, 2, host, 0)},
		{"cu-4", pgconf.Size(4, 4, host, 0)},
		{"archive", func() pgconf.Settings {
			s := pgconf.Size(1, 1, host, 0)
			s.ArchiveMode, s.ArchiveDir, s.ArchiveTimeoutSeconds = true, "grove_archive", 60
			return s
		}()},
		{"standby", func() pgconf.Settings {
			s := pgconf.Size(0.25, 0.25, host, 0)
			s.Standby, s.PrimaryConnInfo, s.RestoreCommand = true, "host=/run/grove/ep-a port=5432 user=grove_replication", `cp grove_archive/%f "%p"`
			return s
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pgconf.Render(tt.settings)
			path := filepath.Join("testdata", tt.name+".conf")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("grove.conf differs from %s (run with -update):\n%s", path, got)
			}
		})
	}
}

func TestNeedsRestart(t *testing.T) {
	host := pgconf.Host{MemoryBytes: 24 * gib, CPUs: 2}
	base := pgconf.Size(0.25, 2, host, 0)
	tests := []struct {
		name string
		new  pgconf.Settings
		want bool
	}{
		{"same", base, false},
		{"raise max within connection bound", pgconf.Size(0.25, 4, host, 0), true}, // max_worker_processes
		{"raise min", pgconf.Size(1, 2, host, 0), true},
		{"fixed 0.25", pgconf.Size(0.25, 0.25, host, 0), true},
		{"work_mem only", func() pgconf.Settings { s := base; s.WorkMem *= 2; return s }(), false},
		{"archive dir only", func() pgconf.Settings { s := base; s.ArchiveDir = "a"; return s }(), false},
		{"archive mode", func() pgconf.Settings { s := base; s.ArchiveMode = true; return s }(), true},
		{"standby", func() pgconf.Settings { s := base; s.Standby = true; return s }(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pgconf.NeedsRestart(base, tt.new); got != tt.want {
				t.Fatalf("NeedsRestart = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAgainstPostgres checks every rendered value is accepted and every
// Restart flag matches pg_settings.context, on each installed major.
func TestAgainstPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	s := pgconf.Size(0.25, 2, pgconf.Host{MemoryBytes: 24 * gib, CPUs: 2}, 0)
	// The standby parameters too: a server not in recovery accepts and ignores them.
	s.Standby, s.RestoreCommand = true, "false"
	for _, in := range pgtest.Installs(t) {
		t.Run(fmt.Sprint(in.Major), func(t *testing.T) {
			kv := map[string]string{}
			for _, p := range s.Params() {
				kv[p.Name] = p.Value
			}
			srv := pgtest.StartMajor(t, in.Major, pgtest.WithSettings(kv))
			conn := srv.Conn(t, "postgres")
			for _, p := range s.Params() {
				var ctx, setting string
				if strings.Contains(p.Name, ".") {
					// A module's setting: a placeholder until the module loads.
					if err := conn.QueryRow(t.Context(), "select current_setting($1)", p.Name).Scan(&setting); err != nil || setting != p.Value {
						t.Errorf("%s: %q, %v; want %q", p.Name, setting, err, p.Value)
					}
					continue
				}
				if err := conn.QueryRow(t.Context(), "select context, current_setting($1) from pg_settings where lower(name) = $1", p.Name).Scan(&ctx, &setting); err != nil {
					t.Fatalf("%s: %v", p.Name, err)
				}
				if restart := ctx == "postmaster"; restart != p.Restart {
					t.Errorf("%s: context %s, Restart %v", p.Name, ctx, p.Restart)
				}
				if want := p.Value; want != setting && p.Name != "archive_command" && !strings.EqualFold(want, setting) && !sameSize(want, setting) {
					t.Logf("%s: rendered %q, server shows %q", p.Name, want, setting)
				}
			}
		})
	}
}

func sameSize(a, b string) bool { return strings.TrimSuffix(a, "B") == strings.TrimSuffix(b, "B") }
