package scram

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/grovedb/grove/internal/pgtest"
)

// RFC 7677 §3 test vector.
const (
	rfcSalt        = "W22ZaJ0SNY7soEsUEjb6gQ=="
	rfcClientNonce = "rOprNGfwEbeRWgbNEkqO"
	rfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	rfcClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
)

func TestClientRFC7677Vector(t *testing.T) {
	c := NewClientPassword("pencil")
	c.nonce = rfcClientNonce
	c.clientFirstBare = "n=user,r=" + rfcClientNonce
	final, err := c.Final([]byte(rfcServerFirst))
	if err != nil {
		t.Fatal(err)
	}
	if string(final) != rfcClientFinal {
		t.Fatalf("client-final = %q, want %q", final, rfcClientFinal)
	}
	if err := c.Verify([]byte(rfcServerFinal)); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify([]byte("v=AAAA")); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("bad signature: err = %v, want ErrAuthFailed", err)
	}
}

func TestVerifierStringRoundTrip(t *testing.T) {
	v, err := NewVerifier("secret")
	if err != nil {
		t.Fatal(err)
	}
	if v.Iterations != DefaultIterations || len(v.Salt) != 16 {
		t.Fatalf("verifier = %+v", v)
	}
	p, err := ParseVerifier(v.String())
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != v.String() {
		t.Fatalf("round trip: %q != %q", p.String(), v.String())
	}
	for _, tc := range []struct {
		pw string
		ok bool
	}{{"secret", true}, {"Secret", false}, {"", false}} {
		key, ok := v.CheckPassword(tc.pw)
		if ok != tc.ok {
			t.Errorf("CheckPassword(%q) = %v, want %v", tc.pw, ok, tc.ok)
		}
		if ok {
			sum := sha256.Sum256(key)
			if !bytes.Equal(sum[:], v.StoredKey) {
				t.Errorf("client key does not hash to StoredKey")
			}
		}
	}
}

func TestParseVerifierErrors(t *testing.T) {
	good, _ := NewVerifierSalt("x", []byte("0123456789abcdef"), 4096)
	s := good.String()
	for _, in := range []string{
		"",
		"md5abc",
		"SCRAM-SHA-256$",
		"SCRAM-SHA-256$4096",
		"SCRAM-SHA-256$x:" + strings.SplitN(s, ":", 2)[1],
		"SCRAM-SHA-256$0:" + strings.SplitN(s, ":", 2)[1],
		"SCRAM-SHA-256$99999999999:" + strings.SplitN(s, ":", 2)[1],
		strings.Replace(s, "$", "$4096:!!!$", 1),
		s[:len(s)-4],
		s + "AAAA",
	} {
		if _, err := ParseVerifier(in); !errors.Is(err, ErrBadVerifier) {
			t.Errorf("ParseVerifier(%q) err = %v, want ErrBadVerifier", in, err)
		}
	}
}

// exchange runs a full server/client exchange and returns the server's error
// and the client key it recovered.
func exchange(t *testing.T, v Verifier, serverCB []byte, c *Client, mech string) ([]byte, error) {
	t.Helper()
	s := NewServer(v, serverCB)
	first, err := c.First()
	if err != nil {
		t.Fatal(err)
	}
	sf, err := s.ClientFirst(mech, first)
	if err != nil {
		return nil, err
	}
	cf, err := c.Final(sf)
	if err != nil {
		t.Fatalf("client final: %v", err)
	}
	sfin, err := s.ClientFinal(cf)
	if err != nil {
		return nil, err
	}
	if err := c.Verify(sfin); err != nil {
		t.Fatalf("client verify: %v", err)
	}
	if s.ChannelBound() != (c.CBData != nil) {
		t.Fatalf("ChannelBound = %v", s.ChannelBound())
	}
	return s.ClientKey(), nil
}

func TestServerExchange(t *testing.T) {
	v, err := NewVerifier("hunter2")
	if err != nil {
		t.Fatal(err)
	}
	wantKey, _ := v.CheckPassword("hunter2")
	cb := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name     string
		pw       string
		serverCB []byte
		clientCB []byte
		mech     string
		yFlag    bool
		wantErr  error
	}{
		{name: "plain", pw: "hunter2", mech: SHA256},
		{name: "plain over tls", pw: "hunter2", serverCB: cb, mech: SHA256},
		{name: "plus", pw: "hunter2", serverCB: cb, clientCB: cb, mech: SHA256Plus},
		{name: "wrong password", pw: "hunter3", mech: SHA256, wantErr: ErrAuthFailed},
		{name: "wrong password plus", pw: "nope", serverCB: cb, clientCB: cb, mech: SHA256Plus, wantErr: ErrAuthFailed},
		{name: "cb mismatch", pw: "hunter2", serverCB: cb, clientCB: bytes.Repeat([]byte{8}, 32), mech: SHA256Plus, wantErr: ErrChannelBinding},
		{name: "plus without tls", pw: "hunter2", clientCB: cb, mech: SHA256Plus, wantErr: ErrProtocol},
		{name: "unknown mechanism", pw: "hunter2", mech: "SCRAM-SHA-1", wantErr: ErrProtocol},
		{name: "downgrade", pw: "hunter2", serverCB: cb, mech: SHA256, yFlag: true, wantErr: ErrChannelBinding},
		{name: "y without tls", pw: "hunter2", mech: SHA256, yFlag: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewClientPassword(tc.pw)
			c.CBData = tc.clientCB
			if tc.yFlag {
				c.yFlag = true
			}
			key, err := exchange(t, v, tc.serverCB, c, tc.mech)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err == nil && !bytes.Equal(key, wantKey) {
				t.Fatalf("recovered client key differs from the password's")
			}
		})
	}
}

// TestPassThrough: a key recovered by one server logs in to another server
// holding the same verifier, which is what the proxy does with a compute.
func TestPassThrough(t *testing.T) {
	v, _ := NewVerifier("pw")
	key, err := exchange(t, v, nil, NewClientPassword("pw"), SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exchange(t, v, nil, NewClientKeys(key, v.ServerKey), SHA256); err != nil {
		t.Fatalf("pass-through: %v", err)
	}
	other, _ := NewVerifier("pw")
	if _, err := exchange(t, other, nil, NewClientKeys(key, other.ServerKey), SHA256); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("pass-through to a different salt: err = %v, want ErrAuthFailed", err)
	}
}

func TestServerMalformed(t *testing.T) {
	v, _ := NewVerifier("pw")
	for _, first := range []string{
		"", "n", "n,", "n,,", "x,,n=,r=abc", "n,a=admin,n=,r=abc", "n,,m=ext,n=,r=abc",
		"n,,n=,r=", "n,,r=abc", "n,,n=,r=a\x01b", "p=tls-unique,,n=,r=abc",
	} {
		s := NewServer(v, []byte{1})
		if _, err := s.ClientFirst(SHA256, []byte(first)); err == nil {
			t.Errorf("ClientFirst(%q) accepted", first)
		}
	}
	s := NewServer(v, nil)
	if _, err := s.ClientFinal([]byte("c=biws,r=x,p=AAAA")); !errors.Is(err, ErrProtocol) {
		t.Errorf("final before first: %v", err)
	}
	sf, err := s.ClientFirst(SHA256, []byte("n,,n=,r=abc"))
	if err != nil {
		t.Fatal(err)
	}
	nonce := strings.TrimPrefix(strings.Split(string(sf), ",")[0], "r=")
	for _, final := range []string{
		"", "c=biws", "c=biws,r=" + nonce, "c=eSws,r=" + nonce + ",p=AAAA", "c=biws,r=wrong,p=AAAA",
		"c=biws,r=" + nonce + ",p=!!!", "c=biws,r=" + nonce + ",p=AAAA", "c=***,r=" + nonce + ",p=AAAA",
	} {
		if _, err := s.ClientFinal([]byte(final)); !errors.Is(err, ErrProtocol) {
			t.Errorf("ClientFinal(%q) err = %v, want ErrProtocol", final, err)
		}
	}
}

func TestMockVerifierStableSalt(t *testing.T) {
	a, b := MockVerifier("bob", []byte("k")), MockVerifier("bob", []byte("k"))
	if !bytes.Equal(a.Salt, b.Salt) {
		t.Fatal("mock salt not stable")
	}
	if _, ok := a.CheckPassword(""); ok {
		t.Fatal("mock verifier matched a password")
	}
}

func TestTLSServerEndPoint(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	got, err := TLSServerEndPoint(cert)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(der)
	if !bytes.Equal(got, want[:]) {
		t.Fatal("tls-server-end-point of an ECDSA-SHA256 cert is not SHA-256 of the DER")
	}
}

// TestPostgresOracle checks our verifiers against real Postgres: a verifier
// we make is stored verbatim and accepts the password; one Postgres makes
// parses and checks with our code, ASCII and not.
func TestPostgresOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Postgres")
	}
	srv := pgtest.Start(t)
	admin := srv.Conn(t, "postgres")
	for i, pw := range []string{"plain-ascii", "pässwörd", "ＡＢＣ full width", "x\u00a0y"} {
		v, err := NewVerifier(pw)
		if err != nil {
			t.Fatal(err)
		}
		role := "ours" + string(rune('a'+i))
		srv.Exec(t, "postgres", "CREATE ROLE "+role+" LOGIN PASSWORD '"+v.String()+"'")
		var stored string
		if err := admin.QueryRow(t.Context(), "SELECT rolpassword FROM pg_authid WHERE rolname=$1", role).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != v.String() {
			t.Fatalf("Postgres stored %q, want %q", stored, v.String())
		}
		theirs := "theirs" + string(rune('a'+i))
		if _, err := admin.Exec(t.Context(), "SET password_encryption='scram-sha-256'"); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(t.Context(), "CREATE ROLE "+theirs+" LOGIN PASSWORD '"+pw+"'"); err != nil {
			t.Fatal(err)
		}
		if err := admin.QueryRow(t.Context(), "SELECT rolpassword FROM pg_authid WHERE rolname=$1", theirs).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		pv, err := ParseVerifier(stored)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := pv.CheckPassword(pw); !ok {
			t.Errorf("password %q does not match Postgres' own verifier", pw)
		}
	}
}

func FuzzParseVerifier(f *testing.F) {
	v, _ := NewVerifierSalt("x", []byte("0123456789abcdef"), 4096)
	f.Add(v.String())
	f.Add("SCRAM-SHA-256$1:AA==$AA==:AA==")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVerifier(s)
		if err != nil {
			return
		}
		if v.Iterations > 10000 {
			return // valid but slow to check
		}
		if _, err := ParseVerifier(v.String()); err != nil {
			t.Fatalf("re-parse of %q: %v", v.String(), err)
		}
	})
}

func FuzzServer(f *testing.F) {
	f.Add("n,,n=,r=abc", "c=biws,r=abcXYZ,p=AAAA", false)
	f.Add("p=tls-server-end-point,,n=,r=abc", "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCws,r=abc,p=AAAA", true)
	f.Add("y,,n=user,r=rOprNGfwEbeRWgbNEkqO", rfcClientFinal, false)
	v, _ := NewVerifierSalt("x", []byte("0123456789abcdef"), 1)
	f.Fuzz(func(t *testing.T, first, final string, plus bool) {
		s := NewServer(v, []byte("cb"))
		mech := SHA256
		if plus {
			mech = SHA256Plus
		}
		if _, err := s.ClientFirst(mech, []byte(first)); err != nil {
			return
		}
		if _, err := s.ClientFinal([]byte(final)); err == nil {
			t.Fatalf("random proof accepted: %q", final)
		}
	})
}

func FuzzClient(f *testing.F) {
	f.Add(rfcServerFirst, rfcServerFinal)
	f.Add("r=,s=,i=", "e=other-error")
	f.Fuzz(func(t *testing.T, serverFirst, serverFinal string) {
		c := NewClientKeys(make([]byte, 32), make([]byte, 32))
		if _, err := c.First(); err != nil {
			t.Fatal(err)
		}
		// Make the fuzzer's nonce a valid continuation sometimes.
		serverFirst = strings.Replace(serverFirst, "r=NONCE", "r="+c.nonce, 1)
		if _, err := c.Final([]byte(serverFirst)); err != nil {
			return
		}
		_ = c.Verify([]byte(serverFinal))
	})
}
