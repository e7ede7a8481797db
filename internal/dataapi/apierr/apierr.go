// Package apierr is the Data API's error: PostgREST's body (code, message,
// details, hint) with the HTTP status it goes out with.
package apierr

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Error is an error the client reads. Code is PostgREST's ("PGRST100") or
// a SQLSTATE; Details and Hint are null when empty.
type Error struct {
	Status  int
	Code    string
	Message string
	Details string
	Hint    string
	// Headers go out with the error (WWW-Authenticate for a refused JWT).
	Headers map[string]string
	Err     error // cause, logged, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + " " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a formatted message.
func New(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetails returns e with its details set.
func (e *Error) WithDetails(format string, args ...any) *Error {
	e.Details = fmt.Sprintf(format, args...)
	return e
}

// WithHint returns e with its hint set.
func (e *Error) WithHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// Body is the JSON PostgREST sends: every key present, empty ones null.
// An error without a code is Neon's own, a message alone.
func (e *Error) Body() []byte {
	if e.Code == "" {
		b, _ := json.Marshal(struct {
			Message string `json:"message"`
		}{e.Message})
		return b
	}
	nullable := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	// PGRST201 lists the candidate relationships as a JSON array.
	var details any = nullable(e.Details)
	if strings.HasPrefix(e.Details, "[") && json.Valid([]byte(e.Details)) {
		details = json.RawMessage(e.Details)
	}
	b, _ := json.Marshal(struct {
		Code    string  `json:"code"`
		Details any     `json:"details"`
		Hint    *string `json:"hint"`
		Message string  `json:"message"`
	}{e.Code, details, nullable(e.Hint), e.Message})
	return b
}
