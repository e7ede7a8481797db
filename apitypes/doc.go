// Package apitypes holds the JSON wire types of Grove's control API, which is
// wire-compatible with Neon's api/v2 (the OpenAPI document published as
// public-v2-for-users.gen.yaml, version 2.7.3).
//
// Field names follow the spec exactly. The conventions are:
//
//   - Required fields are plain values without omitempty, so they are always
//     present, even when zero (cpu_used_sec: 0, consumption_period_start:
//     "0001-01-01T00:00:00Z").
//   - Optional fields are omitted, never sent as null: optional strings use
//     omitempty, optional booleans and numbers whose zero value is meaningful
//     use pointers, optional timestamps use [Time] with omitzero, and optional
//     maps and slices use omitzero (a nil map or slice is omitted, an empty
//     non-nil one is sent as {} or []).
//   - Required arrays use [List], which marshals a nil slice as [] instead of
//     null.
//   - Timestamps are [Time]: RFC 3339 in UTC with second precision, the shape
//     Neon sends.
//   - Ids are strings, except database and API key ids, which are int64.
//     Compute units are float64.
//   - Enumerations are typed string constants. Clients must tolerate values
//     they do not know (Neon adds enum values over time).
//
// Request types use pointers for every optional field whose zero value is
// valid, so that a server can tell "absent" from "zero".
//
// The package has no dependencies beyond the standard library; it is shared
// by the server (internal/apiserver) and the Go client (package client).
package apitypes
