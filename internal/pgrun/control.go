package pgrun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/grovedb/grove/internal/pgconf"
)

// limitsOffset is where pg_control holds MaxConnections,
// max_worker_processes, max_wal_senders, max_prepared_xacts and
// max_locks_per_xact (five ints, in that order) in the control file
// versions limitsVersions lists: 1300 (Postgres 13–16), 1700 and 1800.
const limitsOffset = 180

var limitsVersions = map[uint32]bool{1300: true, 1700: true, 1800: true}

// ControlLimits returns the replay limits a data directory's control file
// records: those of the last server that ran on it. A recovery of the
// directory must start with at least these, whatever size its compute
// has now.
func ControlLimits(dataDir string) (pgconf.ReplayLimits, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "global", "pg_control"))
	if err != nil {
		return pgconf.ReplayLimits{}, fmt.Errorf("control file of %s: %w", dataDir, err)
	}
	if len(b) < limitsOffset+20 {
		return pgconf.ReplayLimits{}, fmt.Errorf("control file of %s: too short", dataDir)
	}
	if v := binary.NativeEndian.Uint32(b[8:]); !limitsVersions[v] {
		return pgconf.ReplayLimits{}, fmt.Errorf("control file of %s: version %d not known", dataDir, v)
	}
	at := func(i int) int { return int(int32(binary.NativeEndian.Uint32(b[limitsOffset+4*i:]))) }
	return pgconf.ReplayLimits{
		MaxConnections: at(0), MaxWorkerProcesses: at(1), MaxWALSenders: at(2),
		MaxPreparedTransactions: at(3), MaxLocksPerTransaction: at(4),
	}, nil
}

// LimitsError fails the start of a server replaying WAL written with a
// replay limit higher than its own (the control file's, or a later
// parameter change in the WAL): Need holds the values Postgres named, 0
// for the others. A start with them raised goes further.
type LimitsError struct{ Need pgconf.ReplayLimits }

func (e *LimitsError) Error() string {
	return fmt.Sprintf("recovery needs higher limits than the server has: %+v", e.Need)
}

// lowerSetting is Postgres' detail for a limit below the WAL's (the same
// text in versions 14 to 18).
var lowerSetting = regexp.MustCompile(`(\w+) = \d+ is a lower setting than on the primary server, where its value was (\d+)`)

// insufficientLimits finds, in a server's log, the limits a replay
// stopped on.
func insufficientLimits(log string) (*LimitsError, bool) {
	var e LimitsError
	found := false
	for _, m := range lowerSetting.FindAllStringSubmatch(log, -1) {
		v, err := strconv.Atoi(m[2])
		if err == nil && e.Need.Set(m[1], v) {
			found = true
		}
	}
	return &e, found
}

// IsLimits reports whether err is a *LimitsError and returns it.
func IsLimits(err error) (*LimitsError, bool) {
	var le *LimitsError
	ok := errors.As(err, &le)
	return le, ok
}
