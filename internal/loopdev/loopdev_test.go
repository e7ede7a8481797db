package loopdev

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseMountInfo(t *testing.T) {
	in := `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
44 22 7:0 / /var/lib/grove/meta rw,nosuid,nodev,noexec,relatime shared:30 master:2 - ext4 /dev/loop0 rw
45 22 7:1 / /srv/my\040data/meta rw,relatime - ext4 /dev/loop1 rw
46 44 0:50 / /var/lib/grove/meta rw - tmpfs tmpfs rw,size=1024k
`
	got, err := ParseMountInfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{Point: "/", FSType: "ext4", Source: "/dev/sda1"},
		{Point: "/var/lib/grove/meta", FSType: "ext4", Source: "/dev/loop0"},
		{Point: "/srv/my data/meta", FSType: "ext4", Source: "/dev/loop1"},
		{Point: "/var/lib/grove/meta", FSType: "tmpfs", Source: "tmpfs"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if m, ok := MountAt(got, "/var/lib/grove/meta"); !ok || m.FSType != "tmpfs" {
		t.Errorf("mountAt = %+v %v, want the topmost (tmpfs)", m, ok)
	}
	if _, ok := MountAt(got, "/var/lib/grove"); ok {
		t.Error("mountAt found a mount at a plain directory")
	}
	if ms := MountsOf(got, "/dev/loop1"); len(ms) != 1 || ms[0].Point != "/srv/my data/meta" {
		t.Errorf("MountsOf(/dev/loop1) = %+v", ms)
	}
	for _, bad := range []string{"1 2 3\n", "22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw\n", "22 1 8:1 / / rw - ext4\n"} {
		if _, err := ParseMountInfo(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseMountInfo(%q) did not fail", bad)
		}
	}
	// The running kernel's own table parses, with / in it.
	if ms, err := Mounts(); err != nil {
		t.Errorf("readMounts: %v", err)
	} else if _, ok := MountAt(ms, "/"); !ok {
		t.Errorf("no / in %+v", ms)
	}
}

func TestUnescapeOctal(t *testing.T) {
	for in, want := range map[string]string{
		`/plain`:           "/plain",
		`/a\040b`:          "/a b",
		`/tab\011x\134y`:   "/tab\tx\\y",
		`/short\04`:        `/short\04`,
		`/notoctal\09x`:    `/notoctal\09x`,
		`/new\012line\040`: "/new\nline ",
	} {
		if got := unescapeOctal(in); got != want {
			t.Errorf("unescapeOctal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBacking(t *testing.T) {
	root := t.TempDir()
	for dev, backing := range map[string]string{
		"loop0": "/data/meta.img",
		"loop1": "/other.img",
		"loop2": "/data/meta.img (deleted)",
		"loop3": "", // not attached: no backing_file
		"sda":   "/data/meta.img",
	} {
		dir := filepath.Join(root, dev, "loop")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if backing != "" {
			if err := os.WriteFile(filepath.Join(dir, "backing_file"), []byte(backing+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := Backing(root, "/data/meta.img")
	if err != nil || !reflect.DeepEqual(got, []string{"/dev/loop0"}) {
		t.Errorf("Backing = %v, %v; want [/dev/loop0]", got, err)
	}
	if _, err := Backing(filepath.Join(root, "missing"), "/x"); err == nil {
		t.Error("Backing of a missing sysfs did not fail")
	}
}

// TestAttach: a file attached to a loop device reads through it, with
// direct I/O where its file system takes it (tmpfs may not: then without),
// and the device detaches itself at its last close.
func TestAttach(t *testing.T) {
	if testing.Short() {
		t.Skip("attaches loop devices; skipped with -short")
	}
	if os.Geteuid() != 0 || !Available() {
		t.Skip("attaching a loop device needs root and /dev/loop-control")
	}
	dirs := []string{t.TempDir()}
	if shm, err := os.MkdirTemp("/dev/shm", "loopdev"); err == nil {
		t.Cleanup(func() { os.RemoveAll(shm) })
		dirs = append(dirs, shm)
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			img := filepath.Join(dir, "img")
			data := strings.Repeat("grove", 1<<20/5)
			if err := os.WriteFile(img, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(img, 1<<20); err != nil {
				t.Fatal(err)
			}
			dev, err := Attach(img, true)
			if err != nil {
				t.Fatal(err)
			}
			sys := filepath.Join(SysBlock, filepath.Base(dev.Name()), "loop")
			autoclear, _ := os.ReadFile(filepath.Join(sys, "autoclear"))
			dio, _ := os.ReadFile(filepath.Join(sys, "dio"))
			t.Logf("%s on %s: dio %s", img, dev.Name(), strings.TrimSpace(string(dio)))
			if strings.TrimSpace(string(autoclear)) != "1" {
				t.Errorf("autoclear %q, want 1", autoclear)
			}
			if devs, err := Backing(SysBlock, img); err != nil || len(devs) != 1 || devs[0] != dev.Name() {
				t.Errorf("Backing = %v, %v; want [%s]", devs, err, dev.Name())
			}
			buf := make([]byte, 10)
			if _, err := dev.ReadAt(buf, 0); err != nil || string(buf) != data[:10] {
				t.Errorf("read through %s: %q, %v", dev.Name(), buf, err)
			}
			dev.Close()
			if devs, _ := Backing(SysBlock, img); len(devs) != 0 {
				t.Errorf("still attached after the last close: %v", devs)
				for _, d := range devs {
					_ = Detach(context.Background(), d)
				}
			}
		})
	}
}
