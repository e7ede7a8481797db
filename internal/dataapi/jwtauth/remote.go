package jwtauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// remote is the key set at one JWKS URL.
type remote struct {
	v   *Verifier
	url string

	mu      sync.Mutex
	set     *keySet   // nil until a fetch succeeds
	fetched time.Time // when set arrived
	tried   time.Time // when the last fetch started
	call    *fetchCall
}

// fetchCall is a fetch under way; every request that needs it waits on done,
// so a URL is fetched once however many requests ask at the same time.
type fetchCall struct {
	done chan struct{}
	set  *keySet
	err  error
}

var errClosed = errors.New("verifier closed")

func (v *Verifier) remote(url string) *remote {
	v.mu.Lock()
	defer v.mu.Unlock()
	r := v.remotes[url]
	if r == nil {
		r = &remote{v: v, url: url}
		v.remotes[url] = r
	}
	return r
}

// current returns the cached set while it is younger than an hour, starting
// a background refresh once it is 5 minutes old; otherwise it waits for a
// fetch.
func (r *remote) current(ctx context.Context) (*keySet, error) {
	now := r.v.now()
	r.mu.Lock()
	if r.set != nil {
		if age := now.Sub(r.fetched); age < expireAfter {
			if age >= refreshAfter {
				r.startLocked(now)
			}
			set := r.set
			r.mu.Unlock()
			return set, nil
		}
	}
	c := r.startLocked(now)
	r.mu.Unlock()
	set, err := r.wait(ctx, c)
	if err != nil {
		return nil, secretMissing(fmt.Errorf("fetch JWKS %s: %w", r.url, err))
	}
	return set, nil
}

// refetch fetches again for a token whose kid the set lacks, at most every
// 30 s: a stream of tokens with made-up kids must not become a stream of
// fetches. It returns nil when it is too early; on a failed fetch the caller
// goes on with the set it has.
func (r *remote) refetch(ctx context.Context) (*keySet, error) {
	now := r.v.now()
	r.mu.Lock()
	if r.call == nil && now.Sub(r.tried) < unknownKidRefetch {
		r.mu.Unlock()
		return nil, nil
	}
	c := r.startLocked(now)
	r.mu.Unlock()
	return r.wait(ctx, c)
}

func (r *remote) wait(ctx context.Context, c *fetchCall) (*keySet, error) {
	select {
	case <-c.done:
		return c.set, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// startLocked joins the fetch under way or starts one. The fetch runs under
// the Verifier's context, not the request's: a request that gives up does
// not cancel the fetch others wait for.
func (r *remote) startLocked(now time.Time) *fetchCall {
	if r.call != nil {
		return r.call
	}
	c := &fetchCall{done: make(chan struct{})}
	v := r.v
	v.mu.Lock()
	closed := v.closed
	if !closed {
		v.wg.Add(1)
	}
	v.mu.Unlock()
	if closed {
		c.err = errClosed
		close(c.done)
		return c
	}
	r.tried = now
	r.call = c
	go func() {
		defer v.wg.Done()
		set, err := v.fetch(v.ctx, r.url)
		r.mu.Lock()
		r.call = nil
		if err == nil {
			r.set, r.fetched = set, v.now()
		} else if r.set != nil {
			v.log.Warn("JWKS fetch failed; keeping the cached keys", "url", r.url, "fetched", r.fetched, "err", err)
		}
		r.mu.Unlock()
		c.set, c.err = set, err
		close(c.done)
	}()
	return c
}

// fetch gets and parses a JWKS, retrying failures that may pass (network
// errors, 5xx, 429) up to 3 times.
func (v *Verifier) fetch(ctx context.Context, url string) (*keySet, error) {
	for attempt := 0; ; attempt++ {
		set, retry, err := v.fetchOnce(ctx, url)
		if err == nil {
			return set, nil
		}
		if !retry || attempt == fetchRetries {
			return nil, err
		}
		t := time.NewTimer(50 * time.Millisecond << attempt)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
	}
}

func (v *Verifier) fetchOnce(ctx context.Context, url string) (set *keySet, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, v.fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := v.client.Do(req)
	if err != nil {
		return nil, true, err
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode >= 300 && res.StatusCode < 400:
		return nil, false, fmt.Errorf("JWKS answered %s: redirects are refused", res.Status)
	case res.StatusCode != http.StatusOK:
		return nil, res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests,
			fmt.Errorf("JWKS answered %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, true, fmt.Errorf("read JWKS: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, false, fmt.Errorf("JWKS larger than %d KiB", maxJWKSBytes>>10)
	}
	set, err = parseJWKS(body)
	if err != nil {
		return nil, false, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "u%d:%s", len(url), url)
	h.Write(body)
	h.Sum(set.id[:0])
	return set, false, nil
}

// jwksClient applies Neon's limits: 2 s to connect, no redirects. Unless
// allowPrivate, the default client connects only to public addresses: a
// tenant's jwks_url must not make Grove probe its own host or network.
func jwksClient(c *http.Client, allowPrivate bool) *http.Client {
	if c == nil {
		d := &net.Dialer{Timeout: connectTimeout}
		if !allowPrivate {
			d.Control = refusePrivate
		}
		c = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   connectTimeout,
			ResponseHeaderTimeout: fetchTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		}}
	} else {
		cc := *c
		c = &cc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// errPrivateAddress is a JWKS URL that leads to a loopback, private,
// link-local or unspecified address.
var errPrivateAddress = errors.New("the JWKS URL resolves to a non-public address")

// refusePrivate is a dialer's Control: it runs after name resolution, on
// the address actually dialled, so a name cannot resolve around it.
func refusePrivate(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return err
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsMulticast() || ip.IsInterfaceLocalMulticast() ||
		netip.MustParsePrefix("100.64.0.0/10").Contains(ip) {
		return errPrivateAddress
	}
	return nil
}
