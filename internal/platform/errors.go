package platform

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error; the API server maps it to a status code.
type Kind int

const (
	KindInternal      Kind = iota
	KindInvalid            // 400: the request is malformed or out of range
	KindUnauthorized       // 401
	KindForbidden          // 403
	KindNotFound           // 404
	KindConflict           // 409
	KindUnprocessable      // 422
	KindLocked             // 423: a conflicting operation is running
	KindUnavailable        // 503
	KindPrecondition       // 412: e.g. reveal_password while passwords are not stored
	KindNotAcceptable      // 406: e.g. a consumption range outside its granularity's window
)

// Error is a domain error with a message fit for the caller.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // cause, logged, never shown
	// Code is Neon's machine-readable code (e.g. PROJECTS_LIMIT_EXCEEDED),
	// empty for most errors (plans).
	Code string
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

func newErr(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err (KindInternal for foreign errors).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

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
