package scram

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	_ "crypto/sha512" // registers SHA-384/512 for TLSServerEndPoint
)

// Client is the client side of one SCRAM-SHA-256 exchange. The proxy uses it
// to log in to a compute with the ClientKey recovered from the end user's
// proof, so it never needs the password: Grove created the role with the same
// verifier, so the compute's salt and keys match.
type Client struct {
	clientKey []byte
	serverKey []byte
	password  *string
	// CBData, when set, binds the exchange to the server certificate's
	// tls-server-end-point hash (SCRAM-SHA-256-PLUS).
	CBData []byte

	// yFlag makes the client claim it could bind but believes the server
	// cannot; only tests use it, to play a downgrade attack.
	yFlag bool

	nonce           string
	clientFirstBare string
	authMsg         []byte
}

// NewClientKeys returns a client that proves knowledge of clientKey and
// checks the server's signature with serverKey.
func NewClientKeys(clientKey, serverKey []byte) *Client {
	return &Client{clientKey: clientKey, serverKey: serverKey}
}

// NewClientPassword returns a client that derives its keys from a password
// and the salt and iteration count the server sends.
func NewClientPassword(password string) *Client {
	return &Client{password: &password}
}

// Mechanism is the mechanism name the client must select.
func (c *Client) Mechanism() string {
	if c.CBData != nil {
		return SHA256Plus
	}
	return SHA256
}

func (c *Client) gs2Header() string {
	if c.CBData != nil {
		return "p=" + cbType + ",,"
	}
	if c.yFlag {
		return "y,,"
	}
	return "n,,"
}

// First returns the client-first-message. The user name is empty because
// Postgres takes it from the startup packet.
func (c *Client) First() ([]byte, error) {
	raw := make([]byte, nonceLen)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("scram: nonce: %w", err)
	}
	c.nonce = base64.StdEncoding.EncodeToString(raw)
	c.clientFirstBare = "n=,r=" + c.nonce
	return []byte(c.gs2Header() + c.clientFirstBare), nil
}

// Final answers the server-first-message with the client-final-message.
func (c *Client) Final(serverFirst []byte) ([]byte, error) {
	if c.nonce == "" {
		return nil, protoErr("First not called")
	}
	sf := string(serverFirst)
	attrs := strings.Split(sf, ",")
	if len(attrs) < 3 {
		return nil, protoErr("server-first-message too short")
	}
	nonce, ok := strings.CutPrefix(attrs[0], "r=")
	if !ok || !strings.HasPrefix(nonce, c.nonce) || len(nonce) == len(c.nonce) || !printable(nonce) {
		return nil, protoErr("bad server nonce")
	}
	saltB64, ok := strings.CutPrefix(attrs[1], "s=")
	if !ok {
		return nil, protoErr("missing salt")
	}
	salt, err := base64.StdEncoding.DecodeString(saltB64)
	if err != nil || len(salt) == 0 {
		return nil, protoErr("bad salt")
	}
	iterStr, ok := strings.CutPrefix(attrs[2], "i=")
	if !ok {
		return nil, protoErr("missing iteration count")
	}
	iter, err := strconv.Atoi(iterStr)
	if err != nil || iter < 1 || iter > maxIterations {
		return nil, protoErr("bad iteration count")
	}
	if c.password != nil {
		v, err := NewVerifierSalt(*c.password, salt, iter)
		if err != nil {
			return nil, err
		}
		salted, err := saltedPassword(*c.password, salt, iter)
		if err != nil {
			return nil, err
		}
		c.clientKey = hmacSHA256(salted, []byte("Client Key"))
		c.serverKey = v.ServerKey
	}
	if len(c.clientKey) != sha256.Size || len(c.serverKey) != sha256.Size {
		return nil, fmt.Errorf("scram: client keys missing")
	}
	cb := append([]byte(c.gs2Header()), c.CBData...)
	withoutProof := "c=" + base64.StdEncoding.EncodeToString(cb) + ",r=" + nonce
	c.authMsg = []byte(c.clientFirstBare + "," + sf + "," + withoutProof)
	stored := sha256.Sum256(c.clientKey)
	sig := hmacSHA256(stored[:], c.authMsg)
	proof := make([]byte, sha256.Size)
	for i := range proof {
		proof[i] = c.clientKey[i] ^ sig[i]
	}
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// Verify checks the server-final-message, proving the server knew the
// verifier too.
func (c *Client) Verify(serverFinal []byte) error {
	if c.authMsg == nil {
		return protoErr("Final not called")
	}
	sf := string(serverFinal)
	if e, ok := strings.CutPrefix(sf, "e="); ok {
		return fmt.Errorf("%w: server error %q", ErrAuthFailed, e)
	}
	v, ok := strings.CutPrefix(sf, "v=")
	if !ok {
		return protoErr("missing server signature")
	}
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	got, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return protoErr("bad server signature encoding")
	}
	if !hmac.Equal(got, hmacSHA256(c.serverKey, c.authMsg)) {
		return fmt.Errorf("%w: server signature mismatch", ErrAuthFailed)
	}
	return nil
}

// TLSServerEndPoint computes the tls-server-end-point channel binding data
// of RFC 5929 §4.1: the certificate hashed with its signature's hash, except
// that MD5 and SHA-1 are replaced by SHA-256.
func TLSServerEndPoint(cert *x509.Certificate) ([]byte, error) {
	var h crypto.Hash
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.ECDSAWithSHA256, x509.DSAWithSHA256:
		h = crypto.SHA256
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		h = crypto.SHA512
	default:
		// Ed25519 and unknown algorithms have no defined hash (RFC 5929
		// leaves it open); Postgres refuses them too.
		return nil, fmt.Errorf("scram: no tls-server-end-point hash for signature algorithm %v", cert.SignatureAlgorithm)
	}
	hh := h.New()
	hh.Write(cert.Raw)
	return hh.Sum(nil), nil
}
