// Package errkind classifies domain errors: the platform and the pure rule
// packages beside it (plans, usage) return an *Error of a Kind, and the API
// server maps the Kind to a status code. It imports nothing of Grove, so
// that every rule package can share it.
package errkind

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error; the API server maps it to a status code.
type Kind int

const (
	Internal      Kind = iota
	Invalid            // 400: the request is malformed or out of range
	Unauthorized       // 401
	Forbidden          // 403
	NotFound           // 404
	Conflict           // 409
	Unprocessable      // 422
	Locked             // 423: a conflicting operation is running
	Unavailable        // 503
	Precondition       // 412: e.g. reveal_password while passwords are not stored
	NotAcceptable      // 406: e.g. a consumption range outside its granularity's window
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

// New returns an *Error of kind k with a formatted message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Of returns the kind of err (Internal for foreign errors).
func Of(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Message returns the caller-facing message of err ("internal error" for
// foreign errors, whose text is for the log only).
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return "internal error"
}

// Code returns Neon's machine-readable code of err, empty when it has none.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
