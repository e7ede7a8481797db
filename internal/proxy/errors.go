package proxy

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/grovedb/grove/internal/proxy/authlimit"
	"github.com/grovedb/grove/internal/proxy/route"
	"github.com/grovedb/grove/internal/scram"
	"github.com/jackc/pgx/v5/pgproto3"
)

// Texts of Neon's proxy and Postgres, so client code written for them keeps working.
// The exported ones are also SQL over HTTP's, which answers as the same proxy.
const (
	TextUnknownEndpoint = "The requested endpoint could not be found, or you don't have access to it. " +
		"Please check the provided ID and try again."
	TextWakeFailed = "Couldn't connect to compute node"
	textTimeout    = "Authentication timed out"
	TextInternal   = "Internal error"
	// Neon's proxy sends these two with SQLSTATE XX000, as all of its own
	// errors (proxy/src/stream.rs); so does Grove.
	textInsecure           = "connection is insecure (try using `sslmode=require`)"
	TextTooManyConnections = "Too many connections to this endpoint. Please try again later."
)

// Errors of the proxy's own making.
var (
	errStartupTooLarge = errors.New("invalid length of startup packet")
	errProtocol        = errors.New("protocol violation")
	errTimeout         = errors.New("handshake timed out")
	errInsecure        = errors.New("login without TLS refused")
	// errLookup marks failures of Backend.Verifier: the platform's, not
	// the client's, even when they are timeouts.
	errLookup = errors.New("look up role")
)

// authError is a failed login: wrong password, unknown role or a mock
// exchange. The text never says which, like Postgres.
type authError struct {
	user string
	err  error
}

func (e *authError) Error() string { return fmt.Sprintf("authenticate %q: %v", e.user, e.err) }
func (e *authError) Unwrap() error { return e.err }

// reservedRoleError refuses a platform role.
type reservedRoleError struct{ role string }

func (e *reservedRoleError) Error() string { return fmt.Sprintf("role %q is reserved", e.role) }

// protocolVersionError is an unsupported startup protocol version.
type protocolVersionError struct{ version uint32 }

func (e *protocolVersionError) Error() string {
	return fmt.Sprintf("unsupported frontend protocol %d.%d: server supports 3.0 to 3.2", e.version>>16, e.version&0xffff)
}

// computeError is an ErrorResponse the compute sent during startup (e.g.
// database does not exist); it goes to the client unchanged.
type computeError struct{ msg *pgproto3.ErrorResponse }

func (e *computeError) Error() string { return "compute: " + e.msg.Code + " " + e.msg.Message }

// protocolErrorf wraps errProtocol with detail shown to the client.
func protocolErrorf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errProtocol, fmt.Sprintf(format, a...))
}

// errorResponse is the one place where errors become what the client sees:
// a FATAL ErrorResponse with a SQLSTATE. Internal detail stays out (it is
// logged by the caller); shown says whether err's text was deemed safe.
func errorResponse(err error) (msg *pgproto3.ErrorResponse, internal bool) {
	fatal := func(code, text string) *pgproto3.ErrorResponse {
		return &pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: text}
	}
	var (
		re  *route.Error
		ue  *UserError
		ae  *authError
		rr  *reservedRoleError
		pv  *protocolVersionError
		ce  *computeError
		cbf = errors.Is(err, scram.ErrChannelBinding)
	)
	switch {
	case errors.As(err, &ce):
		return ce.msg, false
	case errors.As(err, &rr):
		return fatal("28000", fmt.Sprintf("role \"%s\" is reserved and cannot log in through the proxy", rr.role)), false
	case errors.As(err, &re):
		if re.Kind == route.MissingUser {
			return fatal("28000", re.Msg), false
		}
		return fatal("08004", re.Msg), false
	case errors.As(err, &ue):
		code := ue.Code
		if code == "" {
			code = "XX000"
		}
		return fatal(code, ue.Message), false
	case errors.Is(err, ErrUnknownEndpoint):
		return fatal("08004", TextUnknownEndpoint), false
	case errors.Is(err, errInsecure):
		return fatal("XX000", textInsecure), false
	case errors.Is(err, authlimit.ErrThrottled):
		return fatal("XX000", TextTooManyConnections), false
	case errors.Is(err, errConnect):
		// Whatever went wrong with the compute (protocol, timeout, EOF),
		// the client learns only that it could not be reached.
		return fatal("57P03", TextWakeFailed), true
	case cbf:
		return fatal("28000", "SCRAM channel binding check failed"), false
	case errors.As(err, &ae):
		if errors.Is(err, scram.ErrProtocol) {
			return fatal("08P01", "malformed SCRAM message"), false
		}
		return fatal("28P01", fmt.Sprintf("password authentication failed for user \"%s\"", ae.user)), false
	case errors.As(err, &pv):
		return fatal("0A000", pv.Error()), false
	case errors.Is(err, errStartupTooLarge):
		return fatal("08P01", errStartupTooLarge.Error()), false
	case errors.Is(err, errProtocol), errors.Is(err, scram.ErrProtocol):
		return fatal("08P01", err.Error()), false
	case isTimeout(err):
		return fatal("08006", textTimeout), !isClientStall(err)
	default:
		return fatal("XX000", TextInternal), true
	}
}

func isTimeout(err error) bool {
	return errors.Is(err, errTimeout) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
}

// isClientStall reports a timeout of the client's side of the handshake:
// the client did not send or read in time (slow, stalled or a port
// scanner), which is not the proxy's failure. A compute or a role lookup
// that times out is.
func isClientStall(err error) bool {
	return isTimeout(err) && !errors.Is(err, errConnect) && !errors.Is(err, errLookup)
}
