package proxy

import (
	"context"
	"errors"

	"github.com/grovedb/grove/internal/scram"
)

// Backend is what the proxy needs from the platform. The platform implements
// it; the proxy never sees projects, branches or the metadata store.
type Backend interface {
	// Verifier returns the SCRAM verifier of role on the endpoint. It returns
	// an error wrapping ErrUnknownEndpoint or ErrUnknownRole when absent. It
	// may wake the compute to look up roles created in SQL.
	Verifier(ctx context.Context, endpointID, role string) (scram.Verifier, error)
	// Connect wakes the endpoint when suspended and returns the Unix socket
	// path of its Postgres (".../.s.PGSQL.5432"), or of its pooler when
	// pooled is set (the client asked for the -pooler host).
	Connect(ctx context.Context, endpointID string, pooled bool) (socketPath string, err error)
	// ConnOpened and ConnClosed report client connections per endpoint, for
	// scale-to-zero and active time. ConnClosed gets the bytes the
	// connection carried from the client (in) and to the client (out).
	ConnOpened(endpointID string)
	ConnClosed(endpointID string, bytesIn, bytesOut int64)
}

// Errors a Backend returns (wrapped) for absent things.
var (
	ErrUnknownEndpoint = errors.New("unknown endpoint")
	ErrUnknownRole     = errors.New("unknown role")
)

// UserError is an error whose Message the client may see, with the SQLSTATE
// to send (e.g. "53300" for a connection limit, "57P03" while an endpoint is
// disabled). Backends return it, possibly wrapped, for conditions the user
// should read about; any other error becomes a generic message.
type UserError struct {
	Code    string // SQLSTATE; "" = XX000
	Message string
	Err     error // optional cause, logged but not shown
}

func (e *UserError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *UserError) Unwrap() error { return e.Err }
