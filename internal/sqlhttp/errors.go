package sqlhttp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/grovedb/grove/internal/proxy"

	"github.com/jackc/pgx/v5/pgconn"
)

// Texts of Neon's SQL over HTTP that clients match on; the rest are the
// proxy's (proxy.Text*).
const (
	textQueryCancelled = "Query cancelled, connection was terminated"
	textNotSupported   = "query is not supported"
)

// httpError is an error with the status and body fields the client sees.
// Code is a SQLSTATE or "".
type httpError struct {
	Status  int
	Message string
	Code    string
	Err     error // the cause, logged and not shown
}

func (e *httpError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *httpError) Unwrap() error { return e.Err }

// userErrorf is a 400 for a request the client got wrong.
func userErrorf(format string, a ...any) *httpError {
	return &httpError{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, a...)}
}

// errorBody renders err as Neon's proxy does: a Postgres error carries
// every field of the ErrorResponse (absent ones null), anything else its
// message and, when it has one, its code. internal reports whether the
// cause is Grove's rather than the client's, to log it.
func errorBody(err error) (status int, body []byte, internal bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return http.StatusBadRequest, pgErrorJSON(pe), false
	}
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{Status: http.StatusInternalServerError, Message: proxy.TextInternal}
		internal = true
	}
	if he.Message == textQueryCancelled {
		// Neon's one short answer.
		b := []byte(`{"message":`)
		b = appendJSONString(b, []byte(he.Message))
		b = append(b, `,"code":`...)
		b = appendJSONString(b, []byte(he.Code))
		return he.Status, append(b, '}'), internal
	}
	// Every key of a Postgres error, as Neon writes them for its own
	// errors too: code and severity empty unless known, the rest null.
	return he.Status, pgErrorJSON(&pgconn.PgError{Message: he.Message, Code: he.Code}), internal || he.Status >= 500
}

func pgErrorJSON(pe *pgconn.PgError) []byte {
	str := func(b []byte, key, v string) []byte {
		b = append(b, ',', '"')
		b = append(b, key...)
		b = append(b, '"', ':')
		if v == "" {
			return append(b, "null"...)
		}
		return appendJSONString(b, []byte(v))
	}
	num := func(n int32) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(int(n))
	}
	b := []byte(`{"message":`)
	b = appendJSONString(b, []byte(pe.Message))
	b = append(b, `,"code":`...)
	b = appendJSONString(b, []byte(pe.Code))
	b = str(b, "detail", pe.Detail)
	b = str(b, "hint", pe.Hint)
	b = str(b, "position", num(pe.Position))
	b = str(b, "internalPosition", num(pe.InternalPosition))
	b = str(b, "internalQuery", pe.InternalQuery)
	b = append(b, `,"severity":`...)
	b = appendJSONString(b, []byte(pe.Severity))
	b = str(b, "where", pe.Where)
	b = str(b, "table", pe.TableName)
	b = str(b, "column", pe.ColumnName)
	b = str(b, "schema", pe.SchemaName)
	b = str(b, "dataType", pe.DataTypeName)
	b = str(b, "constraint", pe.ConstraintName)
	b = str(b, "file", pe.File)
	b = str(b, "line", num(pe.Line))
	b = str(b, "routine", pe.Routine)
	return append(b, '}')
}
