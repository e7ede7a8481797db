package pgrun

import (
	"testing"

	"github.com/grovedb/grove/internal/pgconf"
)

func TestInsufficientLimits(t *testing.T) {
	for _, tt := range []struct {
		name string
		log  string
		want pgconf.ReplayLimits
		ok   bool
	}{
		{"at start", `2026-12-07 16:20:01.123 UTC [42] FATAL:  recovery aborted because of insufficient parameter settings
2026-12-07 16:20:01.123 UTC [42] DETAIL:  max_connections = 104 is a lower setting than on the primary server, where its value was 839.`,
			pgconf.ReplayLimits{MaxConnections: 839}, true},
		{"paused, then resumed", `WARNING:  hot standby is not possible because of insufficient parameter settings
DETAIL:  max_worker_processes = 9 is a lower setting than on the primary server, where its value was 12.
LOG:  recovery has paused
FATAL:  recovery aborted because of insufficient parameter settings
DETAIL:  max_worker_processes = 9 is a lower setting than on the primary server, where its value was 12.`,
			pgconf.ReplayLimits{MaxWorkerProcesses: 12}, true},
		{"every limit", `DETAIL:  max_wal_senders = 10 is a lower setting than on the primary server, where its value was 20.
DETAIL:  max_prepared_transactions = 0 is a lower setting than on the primary server, where its value was 5.
DETAIL:  max_locks_per_transaction = 64 is a lower setting than on the primary server, where its value was 128.`,
			pgconf.ReplayLimits{MaxWALSenders: 20, MaxPreparedTransactions: 5, MaxLocksPerTransaction: 128}, true},
		{"another failure", `FATAL:  could not open file "global/pg_control": No such file or directory`, pgconf.ReplayLimits{}, false},
		{"unknown setting", `DETAIL:  max_fancy = 1 is a lower setting than on the primary server, where its value was 2.`, pgconf.ReplayLimits{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := insufficientLimits(tt.log)
			if ok != tt.ok || (ok && e.Need != tt.want) {
				t.Errorf("insufficientLimits = %+v, %v; want %+v, %v", e.Need, ok, tt.want, tt.ok)
			}
		})
	}
}
