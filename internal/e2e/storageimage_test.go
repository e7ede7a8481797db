package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
	"github.com/grovedb/grove/internal/loopdev"
)

// TestStorageImage: on ext4, grove as root keeps the volumes in a sparse
// btrfs image of the data dir, loop-mounted at the volumes root, and serves
// them with the btrfs driver; a stop unmounts it, SIGTERM and kill -9 leave
// it mounted for the servers left running, and a start after each finds
// every branch's rows.
func TestStorageImage(t *testing.T) {
	mnt := loopExt4(t, 4096)
	g := startIn(t, filepath.Join(mnt, "grove"), "--meta-reserve", "256MiB")
	image, volumes := filepath.Join(g.DataDir, "volumes.img"), filepath.Join(g.DataDir, "volumes")
	imageLine(t, g, image, volumes, "made")
	if !strings.Contains(g.Logs(), `msg="storage: driver chosen" driver=btrfs`) {
		t.Fatalf("grove did not choose the btrfs driver:\n%s", g.Logs())
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(volumes, &sfs); err != nil || sfs.Type != unix.BTRFS_SUPER_MAGIC {
		t.Fatalf("volumes root: type %#x, %v; want btrfs", sfs.Type, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(image, &st); err != nil || st.Blocks*512 >= st.Size/2 {
		t.Errorf("image: %d bytes, %d allocated, %v; want sparse", st.Size, st.Blocks*512, err)
	}
	if v := sample(scrapeMetrics(t, g, g.Key), `grove_storage_volumes{driver="btrfs"}`); v < 1 {
		t.Errorf(`grove_storage_volumes{driver="btrfs"} = %v`, v)
	}

	cp := g.CreateSeed()
	id, uri := cp.Project.ID, cp.ConnectionURIs[0].ConnectionURI
	psql(t, uri, "create table kv (k int primary key, v text); insert into kv select i, 'main' from generate_series(1, 1000) i")
	var cb apitypes.CreatedBranch
	if st, raw := g.API("POST", "/projects/"+id+"/branches", `{"branch":{"name":"dev"},"endpoints":[{"type":"read_write"}]}`, &cb); st != 201 {
		t.Fatalf("create branch: %d %s", st, raw)
	}
	waitOps(t, checkedClient(g), id, cb.Operations)
	devURI := cb.ConnectionURIs[0].ConnectionURI
	psql(t, devURI, "update kv set v = 'dev' where k <= 10; insert into kv values (1001, 'dev')")
	check := func(when string) {
		t.Helper()
		if got := psql(t, uri, "select count(*) || ' ' || count(*) filter (where v = 'main') from kv"); got != "1000 1000" {
			t.Errorf("%s: main holds %q, want 1000 rows of main", when, got)
		}
		if got := psql(t, devURI, "select count(*) || ' ' || count(*) filter (where v = 'dev') from kv"); got != "1001 11" {
			t.Errorf("%s: the branch holds %q, want 1001 rows, 11 of dev", when, got)
		}
	}
	check("before a restart")

	g.Stop()
	if ms := mountsOf(t, image); len(ms) > 0 {
		t.Fatalf("the image is still mounted after a stop: %v", ms)
	}
	g.Start()
	imageLine(t, g, image, volumes, "mounted")
	check("after a stop")

	// SIGTERM (an upgrade) leaves the servers running on the image for the
	// next grove, and so the image mounted; so does kill -9.
	for _, stop := range []struct {
		name string
		do   func()
	}{{"SIGTERM", g.Terminate}, {"kill -9", g.Kill}} {
		stop.do()
		if stop.name == "SIGTERM" && !strings.Contains(g.Logs(), "storage: image left mounted for what still uses it") {
			t.Errorf("grove did not say why it left the image mounted:\n%s", g.Logs())
		}
		if ms := mountsOf(t, image); len(ms) != 1 || ms[0].Point != volumes {
			t.Fatalf("after %s the image is mounted at %v, want %s", stop.name, ms, volumes)
		}
		g.Start()
		imageLine(t, g, image, volumes, `"found mounted"`)
		check("after " + stop.name)
	}
}

// imageLine checks that grove said at start which image it mounted where.
func imageLine(t *testing.T, g *grovetest.Grove, image, volumes, state string) {
	t.Helper()
	for _, line := range strings.Split(g.Logs(), "\n") {
		if strings.Contains(line, "storage: btrfs image mounted") {
			for _, want := range []string{"image=" + image, "mount=" + volumes, "state=" + state, "size="} {
				if !strings.Contains(line, want) {
					t.Errorf("the image's log line lacks %s: %s", want, line)
				}
			}
			return
		}
	}
	t.Fatalf("grove did not say it mounted a btrfs image:\n%s", g.Logs())
}

// mountsOf lists where the image is mounted (through any loop device).
func mountsOf(t *testing.T, image string) []loopdev.Mount {
	t.Helper()
	ms, err := loopdev.Mounts()
	if err != nil {
		t.Fatal(err)
	}
	devs, err := loopdev.Backing(loopdev.SysBlock, image)
	if err != nil {
		t.Fatal(err)
	}
	var out []loopdev.Mount
	for _, dev := range devs {
		out = append(out, loopdev.MountsOf(ms, dev)...)
	}
	return out
}
