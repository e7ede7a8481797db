// Package client is a Go client for Grove's control API, which is
// wire-compatible with Neon's api/v2; it works against either.
//
//	c := client.New("http://127.0.0.1:8080/api/v2", apiKey)
//	created, err := c.CreateProject(ctx, apitypes.ProjectCreateRequest{})
//
// Every method takes a context first and returns the decoded response body
// (unwrapped when the body is a single-resource envelope such as
// {"project": …}). Non-2xx responses are returned as *[Error], carrying the
// status and the decoded error body; check them with errors.As. Mutations
// return operations that may still be running: poll [Client.GetOperation]
// until [apitypes.OperationStatus.Terminal], and retry on 423 Locked.
//
// A Client is safe for concurrent use.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/grovedb/grove/apitypes"
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// Client calls the api/v2 endpoints of one server with one API key.
type Client struct {
	baseURL   string
	apiKey    string
	http      *http.Client
	userAgent string
}

// Option configures a [Client].
type Option func(*Client)

// WithHTTPClient makes the client send requests through hc instead of
// [http.DefaultClient].
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client for the API at baseURL, such as
// "http://127.0.0.1:8080/api/v2" or "https://console.neon.tech/api/v2",
// authenticating with apiKey as a bearer token. An empty apiKey sends no
// Authorization header.
func New(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{
		baseURL:   strings.TrimRight(baseURL, "/"),
		apiKey:    apiKey,
		http:      http.DefaultClient,
		userAgent: "grove-client",
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Error is a non-2xx response. Body is the decoded error body; when the
// response was not a JSON error body, Body.Message holds its text.
type Error struct {
	Status int
	Body   apitypes.GeneralError
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "api error %d %s", e.Status, http.StatusText(e.Status))
	if e.Body.Code != "" {
		fmt.Fprintf(&b, " [%s]", e.Body.Code)
	}
	if e.Body.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Body.Message)
	}
	if e.Body.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.Body.RequestID)
	}
	return b.String()
}

// StatusCode returns the HTTP status of err if it is (or wraps) an *Error,
// and 0 otherwise.
func StatusCode(err error) int {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Status
	}
	return 0
}

// do sends a request to path (relative to the base URL, already escaped) with
// query parameters and the JSON encoding of in (when in is not nil), and
// decodes a 2xx body into out (when out is not nil and there is a body).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := c.baseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode %d response: %w", method, path, resp.StatusCode, err)
	}
	return nil
}

// decodeError turns a non-2xx response into an *Error.
func decodeError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, &e.Body); err != nil || (e.Body.Message == "" && e.Body.Code == "") {
		e.Body = apitypes.GeneralError{Message: strings.TrimSpace(string(raw))}
	}
	if e.Body.RequestID == "" {
		e.Body.RequestID = resp.Header.Get("X-Neon-Ret-Request-Id")
	}
	return e
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }
