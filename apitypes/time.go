package apitypes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Time is a timestamp on the wire: RFC 3339 in UTC with second precision
// ("2025-09-10T07:58:16Z"), the shape Neon's API emits. Decoding accepts any
// RFC 3339 timestamp, including fractional seconds and offsets, and null
// (which leaves the zero Time).
//
// The zero Time marshals as "0001-01-01T00:00:00Z"; fields tagged omitzero
// omit it.
type Time struct {
	time.Time
}

// NewTime returns t as a Time.
func NewTime(t time.Time) Time { return Time{Time: t} }

// MarshalJSON implements [json.Marshaler].
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(time.RFC3339)+2)
	b = append(b, '"')
	b = t.UTC().Truncate(time.Second).AppendFormat(b, time.RFC3339)
	return append(b, '"'), nil
}

// UnmarshalJSON implements [json.Unmarshaler].
func (t *Time) UnmarshalJSON(data []byte) error {
	if bytes.Equal(data, []byte("null")) {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	t.Time = v
	return nil
}

// String returns the wire form of t without quotes.
func (t Time) String() string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// List is a required JSON array: a nil List marshals as [] rather than null,
// which the spec does not allow. It is otherwise an ordinary slice; a []T is
// assignable to a List[T] and back.
type List[T any] []T

// MarshalJSON implements [json.Marshaler].
func (l List[T]) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]T(l))
}
