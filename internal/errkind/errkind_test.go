package errkind

import (
	"errors"
	"fmt"
	"testing"
)

func TestOf(t *testing.T) {
	cause := errors.New("disk full")
	tests := []struct {
		name string
		err  error
		want Kind
		msg  string
	}{
		{"plain", New(Invalid, "name %q is reserved", "x"), Invalid, `name "x" is reserved`},
		{"wrapped", fmt.Errorf("create: %w", New(Conflict, "exists")), Conflict, "create: exists"},
		{"with cause", &Error{Kind: Unavailable, Msg: "try again", Err: cause}, Unavailable, "try again: disk full"},
		{"foreign", cause, Internal, "disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Of(tt.err); got != tt.want {
				t.Errorf("Of = %v, want %v", got, tt.want)
			}
			if got := tt.err.Error(); got != tt.msg {
				t.Errorf("Error() = %q, want %q", got, tt.msg)
			}
		})
	}
	if !errors.Is(&Error{Kind: Invalid, Err: cause}, cause) {
		t.Error("Unwrap does not reach the cause")
	}
}

func TestMessageCode(t *testing.T) {
	coded := &Error{Kind: Unprocessable, Msg: "too many", Code: "PROJECTS_LIMIT_EXCEEDED"}
	for _, tt := range []struct {
		err       error
		msg, code string
	}{
		{fmt.Errorf("create: %w", coded), "too many", "PROJECTS_LIMIT_EXCEEDED"},
		{&Error{Kind: Unavailable, Msg: "try again", Err: errors.New("disk full")}, "try again", ""},
		{errors.New("disk full"), "internal error", ""},
	} {
		if got := Message(tt.err); got != tt.msg {
			t.Errorf("Message(%v) = %q, want %q", tt.err, got, tt.msg)
		}
		if got := Code(tt.err); got != tt.code {
			t.Errorf("Code(%v) = %q, want %q", tt.err, got, tt.code)
		}
	}
}
