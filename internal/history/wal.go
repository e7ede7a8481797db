package history

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
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

// prevSegment names the segment before a segment, on the same timeline.
func prevSegment(name string, segSize int64) (string, error) {
	tli, start, ok := segmentStart(name, segSize)
	if !ok || start == 0 {
		return "", fmt.Errorf("no segment before %q", name)
	}
	return segmentName(tli, start-LSN(segSize), segSize), nil
}

// segmentName names the segment of a timeline holding an LSN.
func segmentName(tli uint32, at LSN, segSize int64) string {
	perLog := uint64(0x100000000) / uint64(segSize)
	segno := uint64(at) / uint64(segSize)
	return fmt.Sprintf("%08X%08X%08X", tli, segno/perLog, segno%perLog)
}

// control is what the control file says of a data directory.
type control struct {
	State    string // "shut down", "in production", …
	CheckLSN LSN    // latest checkpoint location
	RedoLSN  LSN    // its REDO location
	Timeline uint32
	SegSize  int64
}

// dbStates names the DBState values of pg_control.
var dbStates = []string{"starting up", "shut down", "shut down in recovery", "shutting down",
	"in crash recovery", "in archive recovery", "in production"}

// readControl reads global/pg_control: the fields at its start, whose
// layout has not changed since PostgreSQL 9.3 (system identifier, versions,
// state, time, checkpoint location, then the checkpoint's REDO location and
// timeline), in the machine's byte order; and the WAL segment size from
// the size of the segments in pg_wal (initdb --wal-segsize).
// (pg_controldata is not part of every installation Grove runs.)
func readControl(_ context.Context, _ pgversion.Install, dataDir string) (control, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "global", "pg_control"))
	if err != nil {
		return control{}, fmt.Errorf("read control file: %w", err)
	}
	if len(b) < 56 {
		return control{}, fmt.Errorf("control file of %s: %d bytes", dataDir, len(b))
	}
	ne := binary.NativeEndian
	var c control
	st := ne.Uint32(b[16:])
	if int(st) >= len(dbStates) {
		return control{}, fmt.Errorf("control file of %s: unknown state %d", dataDir, st)
	}
	c.State = dbStates[st]
	c.CheckLSN = LSN(ne.Uint64(b[32:]))
	c.RedoLSN = LSN(ne.Uint64(b[40:]))
	c.Timeline = ne.Uint32(b[48:])
	if c.Timeline == 0 || c.RedoLSN > c.CheckLSN {
		return control{}, fmt.Errorf("control file of %s: unexpected layout (timeline %d, checkpoint %s, redo %s)",
			dataDir, c.Timeline, c.CheckLSN, c.RedoLSN)
	}
	ents, err := os.ReadDir(filepath.Join(dataDir, "pg_wal"))
	if err != nil {
		return control{}, fmt.Errorf("read pg_wal: %w", err)
	}
	for _, e := range ents {
		if len(e.Name()) != 24 || !segmentPattern.MatchString(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if sz := fi.Size(); sz >= 1<<20 && sz <= 1<<30 && sz&(sz-1) == 0 {
			c.SegSize = sz
			break
		}
	}
	if c.SegSize == 0 {
		return control{}, fmt.Errorf("%s: no WAL segment in pg_wal to learn the segment size from", dataDir)
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
