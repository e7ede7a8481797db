package pooler

import (
	"fmt"
	"strings"

	"github.com/grovedb/grove/internal/pgrun"
)

// Neon's pooler settings (neon-semantics §8.2), not user-configurable.
const (
	// Port names the pooler's socket file (.s.PGSQL.6432); it listens on no TCP port.
	Port                         = 6432
	MaxClientConn                = 10000
	QueryWaitTimeoutSeconds      = 120
	DefaultMaxPreparedStatements = 1000
	// PoolFraction of the compute's max_connections is each (role,
	// database) pool's size.
	PoolFraction = 0.9
	// authQuery reads a role's SCRAM verifier from the compute, so that
	// roles created or changed since the pooler started log in as they do
	// on the direct host; it answers only for login roles that are neither
	// superusers nor Grove's.
	authQuery = pgrun.PoolerAuthQuery
)

// iniSettings is everything pgbouncer.ini depends on.
type iniSettings struct {
	ComputeSocketDir      string // where the compute's .s.PGSQL.5432 is
	SocketDir             string // where the pooler's .s.PGSQL.6432 goes
	PoolSize              int
	AuthUser              string
	MaxPreparedStatements int  // 0: omitted (unsupported or off)
	AuthDBName            bool // auth_dbname = postgres (1.20+)
}

// poolSize is Neon's default_pool_size for a compute's max_connections.
func poolSize(maxConnections int) int {
	return max(1, int(PoolFraction*float64(maxConnections)))
}

// render returns pgbouncer.ini. PgBouncer reads it again on SIGHUP, which
// is how a changed pool size reaches a running pooler.
func render(s iniSettings) []byte {
	var b strings.Builder
	b.WriteString("; Written by Grove: the endpoint's -pooler host (Neon's settings).\n")
	b.WriteString("[databases]\n")
	fmt.Fprintf(&b, "* = host=%s port=5432 auth_user=%s\n", s.ComputeSocketDir, s.AuthUser)
	b.WriteString("\n[pgbouncer]\n")
	kv := func(k string, v any) { fmt.Fprintf(&b, "%s = %v\n", k, v) }
	// Unix socket only: the proxy authenticates clients and dials it.
	kv("listen_addr", "")
	kv("listen_port", Port)
	kv("unix_socket_dir", s.SocketDir)
	kv("unix_socket_mode", "0600")
	kv("pidfile", s.SocketDir+"/pgbouncer.pid")
	// SCRAM end to end: the proxy proves the client's key to PgBouncer,
	// which checks it against the verifier auth_query reads and logs in to
	// the compute with it (SCRAM pass-through). auth_user needs no password.
	kv("auth_type", "scram-sha-256")
	kv("auth_user", s.AuthUser)
	kv("auth_query", authQuery)
	if s.AuthDBName {
		kv("auth_dbname", "postgres")
	}
	kv("pool_mode", "transaction")
	kv("max_client_conn", MaxClientConn)
	kv("default_pool_size", s.PoolSize)
	kv("query_wait_timeout", QueryWaitTimeoutSeconds)
	if s.MaxPreparedStatements > 0 {
		kv("max_prepared_statements", s.MaxPreparedStatements)
	}
	kv("client_tls_sslmode", "disable")
	kv("server_tls_sslmode", "disable")
	// JDBC and others send it; Neon ignores it too.
	kv("ignore_startup_parameters", "extra_float_digits")
	kv("application_name_add_host", 0)
	// The proxy logs connections; PgBouncer's own lines would double them.
	kv("log_connections", 0)
	kv("log_disconnections", 0)
	kv("log_pooler_errors", 1)
	kv("syslog", 0)
	return []byte(b.String())
}
