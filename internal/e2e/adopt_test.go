package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// TestAdoptAfterKill kills grove with SIGKILL while three projects' computes
// run, changes two of them while it is down, and starts it again. The
// compute left as it was is adopted: same postmaster, its rows readable,
// writes work. The one whose grove.conf no longer is what its endpoint
// runs with is stopped and starts afresh, with its grove.conf rewritten.
// The one whose project was deleted meanwhile is stopped. Then a SIGTERM
// (an upgrade) leaves the computes running, and the next grove adopts them
// too.
func TestAdoptAfterKill(t *testing.T) {
	g := start(t)
	kept, edited, deleted := g.CreateSeed(), g.CreateSeed(), g.CreateSeed()
	uri := func(i int) string {
		return []apitypes.CreatedProject{kept, edited, deleted}[i].ConnectionURIs[0].ConnectionURI
	}
	if out, err := grovetest.Psql(t, uri(0), "create table kv (k int); insert into kv values (42)"); err != nil {
		t.Fatalf("write: %v: %s", err, out)
	}
	var pids [3]int
	for i := range pids {
		pids[i] = postmasterOf(t, uri(i))
	}

	g.Kill()
	// While grove is down (its metadata cluster runs on): the second
	// compute's settings are edited, the third's project is deleted.
	meta := g.MetaConn(t)
	var vol string
	if err := meta.QueryRow(t.Context(), `SELECT b.volume_id FROM endpoints e JOIN branches b ON b.id = e.branch_id
		WHERE e.id = $1`, edited.Endpoints[0].ID).Scan(&vol); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(g.DataDir, "volumes", vol, "grove.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("# edited while grove was down\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := meta.Exec(t.Context(), `UPDATE projects SET deleted_at = now() WHERE id = $1`, deleted.Project.ID); err != nil {
		t.Fatal(err)
	}
	meta.Close(t.Context())

	g.Start()
	if got := postmasterOf(t, uri(0)); got != pids[0] {
		t.Errorf("kept compute: postmaster %d after the restart, want %d (adopted)", got, pids[0])
	}
	if out, err := grovetest.Psql(t, uri(0), "insert into kv values (43); select sum(k) from kv"); err != nil || out != "85" {
		t.Fatalf("adopted compute: %v: %s", err, out)
	}
	grovetest.WaitFor(t, "the deleted project's compute stopped", func() bool { return !isPostgres(pids[2]) })
	grovetest.WaitFor(t, "the edited compute stopped", func() bool { return !isPostgres(pids[1]) })
	if got := postmasterOf(t, uri(1)); got == pids[1] {
		t.Errorf("edited compute kept its postmaster %d", got)
	}
	if b, err := os.ReadFile(conf); err != nil || strings.Contains(string(b), "edited") {
		t.Errorf("edited compute's grove.conf not rewritten: %v: %s", err, b)
	}
	if !strings.Contains(g.Logs(), "compute adopted") {
		t.Error("no adoption logged")
	}

	// An upgrade: SIGTERM leaves the computes running; the next grove adopts them.
	pids[0], pids[1] = postmasterOf(t, uri(0)), postmasterOf(t, uri(1))
	g.Terminate()
	for _, pid := range pids[:2] {
		if syscall.Kill(pid, 0) != nil {
			t.Fatalf("postmaster %d stopped with grove's SIGTERM", pid)
		}
	}
	g.Start()
	for i, pid := range pids[:2] {
		if got := postmasterOf(t, uri(i)); got != pid {
			t.Errorf("compute %d after SIGTERM and start: postmaster %d, want %d", i, got, pid)
		}
	}
	if out, err := grovetest.Psql(t, uri(0), "select sum(k) from kv"); err != nil || out != "85" {
		t.Fatalf("after the upgrade: %v: %s", err, out)
	}
}
