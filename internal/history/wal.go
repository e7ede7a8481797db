package history

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/grovedb/grove/internal/pgversion"
)

// LSN is a position in the WAL.
type LSN uint64

// ParseLSN parses Postgres' "X/Y" notation (hexadecimal halves).
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, fmt.Errorf("invalid LSN %q", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid LSN %q", s)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid LSN %q", s)
	}
	return LSN(h<<32 | l), nil
}

func (l LSN) String() string { return fmt.Sprintf("%X/%X", uint64(l)>>32, uint64(l)&0xFFFFFFFF) }

// MarshalText writes the "X/Y" notation.
func (l LSN) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads the "X/Y" notation.
func (l *LSN) UnmarshalText(b []byte) error {
	v, err := ParseLSN(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// segmentPattern matches a WAL segment file name (timeline, log, seg), a
// partial segment or a backup history file.
var segmentPattern = regexp.MustCompile(`^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})(\.partial|\.[0-9A-F]{8}\.backup)?$`)

// segmentStart returns the timeline and the first LSN of a segment file
// name, for a segment size; ok is false for other names.
func segmentStart(name string, segSize int64) (tli uint32, start LSN, ok bool) {
	m := segmentPattern.FindStringSubmatch(name)
	if m == nil || segSize <= 0 {
		return 0, 0, false
	}
	t, _ := strconv.ParseUint(m[1], 16, 32)
	log, _ := strconv.ParseUint(m[2], 16, 32)
	seg, _ := strconv.ParseUint(m[3], 16, 32)
	perLog := uint64(0x100000000) / uint64(segSize)
	return uint32(t), LSN((log*perLog + seg) * uint64(segSize)), true
}

// control is what pg_controldata reports of a data directory.
type control struct {
	State    string // "shut down", "in production", …
	CheckLSN LSN    // latest checkpoint location
	RedoLSN  LSN    // its REDO location
	Timeline uint32
	SegSize  int64
}

// readControl runs pg_controldata on a data directory.
func readControl(ctx context.Context, in pgversion.Install, dataDir string) (control, error) {
	cmd := exec.CommandContext(ctx, in.Bin("pg_controldata"), "-D", dataDir)
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
		}
		return control{}, fmt.Errorf("pg_controldata %s: %w", dataDir, err)
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	var c control
	c.State = kv["Database cluster state"]
	if c.CheckLSN, err = ParseLSN(kv["Latest checkpoint location"]); err != nil {
		return control{}, fmt.Errorf("pg_controldata %s: %w", dataDir, err)
	}
	if c.RedoLSN, err = ParseLSN(kv["Latest checkpoint's REDO location"]); err != nil {
		return control{}, fmt.Errorf("pg_controldata %s: %w", dataDir, err)
	}
	tli, err := strconv.ParseUint(kv["Latest checkpoint's TimeLineID"], 10, 32)
	if err != nil {
		return control{}, fmt.Errorf("pg_controldata %s: timeline: %w", dataDir, err)
	}
	c.Timeline = uint32(tli)
	if c.SegSize, err = strconv.ParseInt(kv["Bytes per WAL segment"], 10, 64); err != nil || c.SegSize <= 0 {
		return control{}, fmt.Errorf("pg_controldata %s: segment size %q", dataDir, kv["Bytes per WAL segment"])
	}
	return c, nil
}

// walEnd returns an upper bound of the WAL in a stopped data directory's
// pg_wal: the end of its last segment file.
func walEnd(dataDir string, segSize int64) (LSN, error) {
	ents, err := os.ReadDir(filepath.Join(dataDir, "pg_wal"))
	if err != nil {
		return 0, fmt.Errorf("read pg_wal: %w", err)
	}
	var end LSN
	for _, e := range ents {
		if _, start, ok := segmentStart(e.Name(), segSize); ok && !strings.Contains(e.Name(), ".") {
			end = max(end, start+LSN(segSize))
		}
	}
	return end, nil
}

// majorOf reads PG_VERSION of a data directory.
func majorOf(dataDir string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if err != nil {
		return 0, fmt.Errorf("read PG_VERSION: %w", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("PG_VERSION %q: %w", bytes.TrimSpace(b), err)
	}
	return v, nil
}

// shellQuote quotes s for /bin/sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
