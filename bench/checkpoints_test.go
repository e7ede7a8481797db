package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// BenchmarkCheckpoints measures what an agent platform's checkpoints cost
// on disk: 100 steps on one project, each changing a few rows and taking a
// snapshot, as an agent does before every change. The figure is the growth
// of the btrfs exclusive bytes of every volume the project has (its branch,
// its snapshots, its history's snapshots), counted together in one level-1
// qgroup so that blocks shared between its checkpoints count once and
// blocks shared with the template not at all; the WAL archive's growth is
// reported beside it. No warm pool runs, so every volume on the file system
// but the templates is the project's. Target: ≤ 10 MiB.
func BenchmarkCheckpoints(b *testing.B) {
	g := startOnBtrfs(b, 4096, true, "--pool-size=-1")
	p := newBenchProject(b, g, g.OrgID("paid"), "agent", false)
	mustExec(b, p.keep, "CREATE TABLE items (id int PRIMARY KEY, n int, note text); "+
		"INSERT INTO items SELECT i, 0, md5(i::text) FROM generate_series(1, 1000) i")
	before, archBefore := projectExclusive(b, g, 1), archiveApparent(g)
	const steps = 100
	b.ResetTimer()
	for i := 1; i <= steps; i++ {
		mustExec(b, p.keep, fmt.Sprintf("UPDATE items SET n = n + 1 WHERE id %% 100 = %d; INSERT INTO steps VALUES (%d)", i%100, i))
		var so apitypes.SnapshotOperations
		st, raw := g.API("POST", "/projects/"+p.id()+"/branches/"+p.root()+"/snapshot?name=step-"+strconv.Itoa(i), nil, &so)
		if st != 200 {
			b.Fatalf("snapshot %d: %d %s", i, st, raw)
		}
		waitOps(b, g, p.id(), so.Operations)
	}
	b.StopTimer()
	// A suspend writes the compute's last pages, as it would when idle.
	path := "/projects/" + p.id() + "/endpoints/" + p.cp.Endpoints[0].ID + "/suspend"
	p.keep.Close(b.Context())
	apiUnlocked(b, g, "POST", path, nil, nil, 200)
	after := projectExclusive(b, g, 2)
	metric(b, float64(after-before)/(1<<20), "exclusive_MiB_per_100_checkpoints")
	metric(b, float64(archiveApparent(g)-archBefore)/(1<<20), "archive_apparent_MiB")
	b.Logf("project exclusive %.2f MiB before, %.2f MiB after %d checkpoints", float64(before)/(1<<20), float64(after)/(1<<20), steps)
}

// projectExclusive puts every volume but the templates into a new level-1
// qgroup 1/<id> and returns its exclusive bytes.
func projectExclusive(b *testing.B, g *grovetest.Grove, id int) int64 {
	b.Helper()
	vols := filepath.Join(g.DataDir, "volumes")
	group := "1/" + strconv.Itoa(id)
	if out, err := runOut("btrfs", "qgroup", "create", group, vols); err != nil {
		b.Fatalf("btrfs qgroup create: %v: %s", err, out)
	}
	entries, err := os.ReadDir(vols)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "vol-") && !strings.HasPrefix(e.Name(), "hist-") {
			continue
		}
		sub := filepath.Join(vols, e.Name())
		rid, err := runOut("btrfs", "inspect-internal", "rootid", sub)
		if err != nil {
			b.Fatalf("btrfs rootid %s: %v: %s", sub, err, rid)
		}
		if out, err := runOut("btrfs", "qgroup", "assign", "--no-rescan", "0/"+strings.TrimSpace(rid), group, vols); err != nil {
			b.Fatalf("btrfs qgroup assign: %v: %s", err, out)
		}
	}
	if out, err := runOut("btrfs", "quota", "rescan", "-w", vols); err != nil {
		b.Fatalf("btrfs quota rescan: %v: %s", err, out)
	}
	out, err := runOut("btrfs", "qgroup", "show", "--raw", vols)
	if err != nil {
		b.Fatalf("btrfs qgroup show: %v: %s", err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == group {
			n, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				b.Fatalf("qgroup line %q: %v", l, err)
			}
			return n
		}
	}
	b.Fatalf("qgroup %s not in:\n%s", group, out)
	return 0
}

// archiveApparent is the apparent size of the WAL archive's files.
func archiveApparent(g *grovetest.Grove) int64 {
	var n int64
	_ = filepath.WalkDir(filepath.Join(g.DataDir, "archive"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
