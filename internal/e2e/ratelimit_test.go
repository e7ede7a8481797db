package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grovedb/grove/apitypes"
	"github.com/grovedb/grove/internal/grovetest"
)

// answer is one API response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// call sends a request with key through the spec-checking transport.
func call(t *testing.T, g *grovetest.Grove, key, method, path, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+g.APIAddr+"/api/v2"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Transport: checkingTransport{g: g}}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, raw}
}

// tooMany checks a 429 to GET path against the spec: Neon's error body
// and a whole Retry-After within [1, maxWait] seconds, which it returns.
func tooMany(t *testing.T, g *grovetest.Grove, path string, a answer, maxWait int) time.Duration {
	t.Helper()
	if g.Check != nil {
		p, _, _ := strings.Cut(path, "?")
		g.Check("GET", "/api/v2"+p, a.status, a.header, a.body)
	}
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429: %s", a.status, a.body)
	}
	var e apitypes.GeneralError
	if err := json.Unmarshal(a.body, &e); err != nil || e.Message != "rate limit exceeded" || e.Code != "" {
		t.Fatalf("429 body not Neon's error shape with our message: %s", a.body)
	}
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > maxWait {
		t.Fatalf("Retry-After %q, want whole seconds in [1, %d]", a.header.Get("Retry-After"), maxWait)
	}
	return time.Duration(secs) * time.Second
}

// burst sends GET requests to paths at once (without the spec check,
// which takes time of its own; tooMany checks a 429 afterwards).
func burst(t *testing.T, g *grovetest.Grove, key string, paths []string) []answer {
	t.Helper()
	out := make([]answer, len(paths))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, p := range paths {
		wg.Go(func() {
			req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+g.APIAddr+"/api/v2"+p, nil)
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+key)
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			out[i] = answer{resp.StatusCode, resp.Header, b}
		})
	}
	close(start)
	wg.Wait()
	return out
}

// served counts the 200s and returns one 429 (or a zero answer).
func served(as []answer) (int, answer) {
	ok, limited := 0, answer{}
	for _, a := range as {
		switch a.status {
		case 200:
			ok++
		case http.StatusTooManyRequests:
			limited = a
		}
	}
	return ok, limited
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestRateLimit: a key over 5 requests a second on one route, then over 20
// a minute across routes, gets 429 with Retry-After and is served again
// after that wait; another key is not affected; an address sending bad
// keys is stopped after 20 failures a minute.
func TestRateLimit(t *testing.T) {
	g := start(t, "--rate-limit-per-minute", "20", "--rate-limit-per-route-per-second", "5")
	org := g.OrgID("paid") // 1 of the admin key's 20

	b := call(t, g, g.Key, "POST", "/api_keys", `{"key_name":"second"}`) // 2
	var created apitypes.ApiKeyCreateResponse
	if b.status != 200 || json.Unmarshal(b.body, &created) != nil || created.Key == "" {
		t.Fatalf("create a second key: %d %s", b.status, b.body)
	}

	// One route, 15 requests at once: 5 served, and one more for each
	// token that came back (one every 200 ms) while they arrived, which a
	// loaded machine spreads out; the others get 429.
	began := time.Now()
	answers := burst(t, g, g.Key, repeat("/users/me", 15))
	most := 5 + 1 + int(time.Since(began)/(200*time.Millisecond))
	ok, limited := served(answers)
	if ok < 5 || ok > most || limited.status == 0 {
		t.Fatalf("%d of 15 requests at once served on one route, want 5 (up to %d with tokens back meanwhile) and 429s", ok, most)
	}
	wait := tooMany(t, g, "/users/me", limited, 1)
	if a := call(t, g, created.Key, "GET", "/users/me", ""); a.status != 200 {
		t.Fatalf("the second key on the same route: %d %s", a.status, a.body)
	}
	time.Sleep(wait)
	if a := call(t, g, g.Key, "GET", "/users/me", ""); a.status != 200 {
		t.Fatalf("after Retry-After: %d %s", a.status, a.body)
	}

	// Across routes, 3 requests each (under the route limit), 18 at once:
	// the minute's 20 run out (about 12 were left).
	var paths []string
	for _, r := range []string{"/users/me/organizations", "/regions", "/api_keys", "/projects?org_id=" + org,
		"/organizations/" + org, "/organizations/" + org + "/members"} {
		paths = append(paths, repeat(r, 3)...)
	}
	answers = burst(t, g, g.Key, paths)
	if _, limited = served(answers); limited.status == 0 {
		t.Fatalf("%d requests across routes, all served: the per-minute limit did not apply", len(paths))
	}
	wait = tooMany(t, g, "/regions", limited, 3) // a token every 3 s
	if a := call(t, g, created.Key, "GET", "/regions", ""); a.status != 200 {
		t.Fatalf("the second key while the first is limited: %d %s", a.status, a.body)
	}
	time.Sleep(wait)
	if a := call(t, g, g.Key, "GET", "/regions", ""); a.status != 200 {
		t.Fatalf("after Retry-After: %d %s", a.status, a.body)
	}

	// The 429s are counted by limit.
	m := scrapeMetrics(t, g, g.Key)
	for _, limit := range []string{"route", "key"} {
		if v := sample(m, `grove_api_rate_limited_total{limit="`+limit+`"}`); v < 1 {
			t.Errorf("429s counted for the %s limit: %v, want ≥ 1", limit, v)
		}
	}

	// Bad keys from one address: 20 failures, then 429 without a lookup.
	failures := 0
	limited = answer{}
	for range 30 {
		a := call(t, g, "napi_not_a_key", "GET", "/users/me", "")
		if a.status == 401 {
			failures++
			continue
		}
		limited = a
		break
	}
	if failures < 20 || failures > 23 {
		t.Fatalf("%d failures before a 429, want 20 (a few more if tokens came back meanwhile)", failures)
	}
	tooMany(t, g, "/users/me", limited, 3)
	if a := call(t, g, "", "GET", "/users/me", ""); a.status != 429 {
		t.Fatalf("no key from the limited address: %d, want 429", a.status)
	}
}
