package platform

import (
	"errors"

	"github.com/grovedb/grove/internal/errkind"
)

// Kind classifies a domain error; the API server maps it to a status code.
// The rule packages beside the platform (plans, usage) return the same
// errors, so the kinds live in errkind.
type Kind = errkind.Kind

const (
	KindInternal      = errkind.Internal
	KindInvalid       = errkind.Invalid
	KindUnauthorized  = errkind.Unauthorized
	KindForbidden     = errkind.Forbidden
	KindNotFound      = errkind.NotFound
	KindConflict      = errkind.Conflict
	KindUnprocessable = errkind.Unprocessable
	KindLocked        = errkind.Locked
	KindUnavailable   = errkind.Unavailable
	KindPrecondition  = errkind.Precondition
	KindNotAcceptable = errkind.NotAcceptable
)

// Error is a domain error with a message fit for the caller.
type Error = errkind.Error

func newErr(k Kind, format string, args ...any) *Error { return errkind.New(k, format, args...) }

// KindOf returns the kind of err (KindInternal for foreign errors).
func KindOf(err error) Kind { return errkind.Of(err) }

// Message returns the caller-facing message of err.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return "internal error"
}

func notFound(what string) *Error { return newErr(KindNotFound, "%s not found", what) }

// Code returns the Neon error code of err, empty when it has none.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
