package reserve

import (
	"encoding/binary"
	"os"
	"os/exec"
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
	got, err := parseMountInfo(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []mount{
		{Point: "/", FSType: "ext4", Source: "/dev/sda1"},
		{Point: "/var/lib/grove/meta", FSType: "ext4", Source: "/dev/loop0"},
		{Point: "/srv/my data/meta", FSType: "ext4", Source: "/dev/loop1"},
		{Point: "/var/lib/grove/meta", FSType: "tmpfs", Source: "tmpfs"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if m, ok := mountAt(got, "/var/lib/grove/meta"); !ok || m.FSType != "tmpfs" {
		t.Errorf("mountAt = %+v %v, want the topmost (tmpfs)", m, ok)
	}
	if _, ok := mountAt(got, "/var/lib/grove"); ok {
		t.Error("mountAt found a mount at a plain directory")
	}
	if ms := mountsOf(got, "/dev/loop1"); len(ms) != 1 || ms[0].Point != "/srv/my data/meta" {
		t.Errorf("mountsOf(/dev/loop1) = %+v", ms)
	}
	for _, bad := range []string{"1 2 3\n", "22 1 8:1 / / rw shared:1 ext4 /dev/sda1 rw\n", "22 1 8:1 / / rw - ext4\n"} {
		if _, err := parseMountInfo(strings.NewReader(bad)); err == nil {
			t.Errorf("parseMountInfo(%q) did not fail", bad)
		}
	}
	// The running kernel's own table parses, with / in it.
	if ms, err := readMounts(); err != nil {
		t.Errorf("readMounts: %v", err)
	} else if _, ok := mountAt(ms, "/"); !ok {
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

func TestLoopsBacking(t *testing.T) {
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
	got, err := loopsBacking(root, "/data/meta.img")
	if err != nil || !reflect.DeepEqual(got, []string{"/dev/loop0"}) {
		t.Errorf("loopsBacking = %v, %v; want [/dev/loop0]", got, err)
	}
	if _, err := loopsBacking(filepath.Join(root, "missing"), "/x"); err == nil {
		t.Error("loopsBacking of a missing sysfs did not fail")
	}
}

func TestExt4Size(t *testing.T) {
	sb := func(blocksLo, blocksHi, logBlock, incompat uint32, magic uint16) []byte {
		b := make([]byte, 1024)
		le := binary.LittleEndian
		le.PutUint32(b[0x04:], blocksLo)
		le.PutUint32(b[0x18:], logBlock)
		le.PutUint16(b[0x38:], magic)
		le.PutUint32(b[0x60:], incompat)
		le.PutUint32(b[0x150:], blocksHi)
		return b
	}
	for _, tc := range []struct {
		name string
		sb   []byte
		want int64
		ok   bool
	}{
		{"4k blocks", sb(262144, 0, 2, 0, 0xef53), 1 << 30, true},
		{"1k blocks", sb(131072, 0, 0, 0, 0xef53), 128 << 20, true},
		{"64bit", sb(0, 1, 2, 0x80, 0xef53), 1 << 44, true},
		{"hi ignored without 64bit", sb(262144, 1, 2, 0, 0xef53), 1 << 30, true},
		{"bad magic", sb(262144, 0, 2, 0, 0x1234), 0, false},
		{"bad block size", sb(262144, 0, 40, 0, 0xef53), 0, false},
		{"short", make([]byte, 100), 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ext4Size(tc.sb)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ext4Size = %d, %v; want %d (ok %v)", got, err, tc.want, tc.ok)
			}
		})
	}
	// A real file system's superblock, where mkfs.ext4 is installed (no root needed).
	mkfs, err := tool("mkfs.ext4")
	if err != nil {
		t.Skipf("the real superblock: %v", err)
	}
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 160<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(mkfs, "-q", "-F", img).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v: %s", err, out)
	}
	if n, err := ext4SizeOf(img); err != nil || n != 160<<20 {
		t.Errorf("ext4SizeOf(160 MiB image) = %d, %v", n, err)
	}
}
