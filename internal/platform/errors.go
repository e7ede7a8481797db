package platform

import "github.com/grovedb/grove/internal/errkind"

// The platform's errors are *errkind.Error: the API server maps their kind
// to a status code.

func newErr(k errkind.Kind, format string, args ...any) *errkind.Error {
	return errkind.New(k, format, args...)
}

func notFound(what string) *errkind.Error { return newErr(errkind.NotFound, "%s not found", what) }
