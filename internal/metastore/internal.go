package metastore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/grovedb/grove/internal/pgrun"
	"github.com/grovedb/grove/internal/pgversion"
)

// InternalDB is the database name of the internal metadata cluster.
const InternalDB = "grove"

// Internal describes the metadata cluster Grove runs itself in <data-dir>/meta.
type Internal struct {
	DataDir   string
	SocketDir string
	Install   pgversion.Install
	User      pgrun.User // an OS identity of its own, which no compute has
	Log       io.Writer
}

// StartInternal initialises the cluster on first use, starts it (adopting
// the postmaster an earlier Grove left behind when it runs as this one
// would, else stopping it) and returns it with its DSN.
func StartInternal(ctx context.Context, in Internal) (*pgrun.Server, string, error) {
	if _, err := os.Stat(filepath.Join(in.DataDir, "PG_VERSION")); os.IsNotExist(err) {
		// A half-made cluster from an interrupted first start is remade.
		if err := os.RemoveAll(in.DataDir); err != nil {
			return nil, "", fmt.Errorf("metadata cluster: %w", err)
		}
		tmp := in.DataDir + ".init"
		_ = os.RemoveAll(tmp)
		if err := pgrun.InitDB(ctx, in.Install, in.User, tmp, pgrun.InitOptions{Databases: []string{InternalDB}}); err != nil {
			return nil, "", fmt.Errorf("metadata cluster: %w", err)
		}
		if err := os.Rename(tmp, in.DataDir); err != nil {
			return nil, "", fmt.Errorf("metadata cluster: %w", err)
		}
	}
	opts := pgrun.Options{
		Install: in.Install, User: in.User, DataDir: in.DataDir, SocketDir: in.SocketDir, Log: in.Log,
		Settings: map[string]string{"max_connections": "100", "shared_buffers": "64MB", "unix_socket_permissions": "0700"},
	}
	// A cluster an earlier Grove left running (killed, or leaving its
	// servers to the next) is adopted when it runs as this one would: a
	// restart answers without waiting for its shutdown and start.
	srv, err := pgrun.Adopt(ctx, opts, nil)
	if err == nil {
		if err := pgrun.WriteHBA(in.DataDir, in.User, nil); err != nil {
			return nil, "", fmt.Errorf("metadata cluster: %w", err)
		}
		srv.Reload()
		return srv, srv.AdminDSN(InternalDB), nil
	}
	if err := pgrun.StopStale(ctx, in.DataDir); err != nil {
		return nil, "", fmt.Errorf("metadata cluster: stop stale: %w", err)
	}
	// The cluster runs under an identity no compute has; one made when it
	// shared the computes' is handed over, and its peer map rewritten.
	if owner, err := pgrun.OwnerOf(in.DataDir); err != nil {
		return nil, "", fmt.Errorf("metadata cluster: %w", err)
	} else if owner.UID != in.User.UID {
		if err := in.User.OwnTree(in.DataDir); err != nil {
			return nil, "", fmt.Errorf("metadata cluster: %w", err)
		}
	}
	if err := pgrun.WriteHBA(in.DataDir, in.User, nil); err != nil {
		return nil, "", fmt.Errorf("metadata cluster: %w", err)
	}
	if err := in.User.MkdirOwned(in.SocketDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("metadata cluster: %w", err)
	}
	srv, err = pgrun.Start(ctx, opts)
	if err != nil {
		return nil, "", fmt.Errorf("metadata cluster: %w", err)
	}
	return srv, srv.AdminDSN(InternalDB), nil
}
