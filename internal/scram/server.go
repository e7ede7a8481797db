package scram

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Mechanism names as Postgres advertises them in AuthenticationSASL.
const (
	SHA256     = "SCRAM-SHA-256"
	SHA256Plus = "SCRAM-SHA-256-PLUS"
)

// cbType is the only channel binding type Postgres (and so every client
// library) supports.
const cbType = "tls-server-end-point"

// nonceLen is the raw length of our nonce part (Postgres uses 18 bytes).
const nonceLen = 18

// Errors a server exchange fails with. Callers branch on them to pick the
// client-visible error: a bad proof is a wrong password, the others are
// protocol violations.
var (
	ErrProtocol       = errors.New("scram: malformed message")
	ErrAuthFailed     = errors.New("scram: authentication failed")
	ErrChannelBinding = errors.New("scram: channel binding check failed")
)

func protoErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, a...))
}

// Server is the server side of one SCRAM exchange. Use it once: ClientFirst,
// then ClientFinal.
type Server struct {
	v         Verifier
	cbData    []byte // tls-server-end-point hash of our certificate; nil without TLS
	mechanism string

	gs2Header       string
	clientFirstBare string
	serverFirst     string
	nonce           string

	clientKey []byte
	bound     bool
}

// NewServer starts an exchange against v. cbData is the tls-server-end-point
// hash of the certificate the client saw (see TLSServerEndPoint), or nil when
// the connection is not over TLS; only with it is SCRAM-SHA-256-PLUS offered.
func NewServer(v Verifier, cbData []byte) *Server {
	return &Server{v: v, cbData: cbData}
}

// Mechanisms lists what to advertise, preferred first.
func (s *Server) Mechanisms() []string {
	if s.cbData != nil {
		return []string{SHA256Plus, SHA256}
	}
	return []string{SHA256}
}

// ClientFirst processes the client-first-message sent with the chosen
// mechanism and returns the server-first-message.
func (s *Server) ClientFirst(mechanism string, msg []byte) ([]byte, error) {
	if s.serverFirst != "" {
		return nil, protoErr("client-first-message sent twice")
	}
	switch mechanism {
	case SHA256:
	case SHA256Plus:
		if s.cbData == nil {
			return nil, protoErr("SCRAM-SHA-256-PLUS requested without TLS")
		}
	default:
		return nil, protoErr("unsupported SASL mechanism %q", mechanism)
	}
	s.mechanism = mechanism
	m := string(msg)
	// gs2-header: cbind-flag "," [authzid] ","
	flag, rest, ok := strings.Cut(m, ",")
	if !ok {
		return nil, protoErr("missing gs2 header")
	}
	switch {
	case flag == "n":
		if mechanism == SHA256Plus {
			return nil, protoErr("SCRAM-SHA-256-PLUS selected without channel binding")
		}
	case flag == "y":
		// The client could bind but believes we cannot. Over TLS we offered
		// PLUS, so someone stripped it from the list: a downgrade attack.
		if mechanism == SHA256Plus {
			return nil, protoErr("SCRAM-SHA-256-PLUS selected without channel binding")
		}
		if s.cbData != nil {
			return nil, fmt.Errorf("%w: client supports channel binding but it was not selected", ErrChannelBinding)
		}
	case strings.HasPrefix(flag, "p="):
		if mechanism != SHA256Plus {
			return nil, protoErr("channel binding requested without SCRAM-SHA-256-PLUS")
		}
		if flag[2:] != cbType {
			return nil, protoErr("unsupported channel binding type %q", flag[2:])
		}
		s.bound = true
	default:
		return nil, protoErr("bad gs2 channel binding flag %q", flag)
	}
	authzid, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, protoErr("missing gs2 header")
	}
	if authzid != "" {
		return nil, protoErr("authorization identity is not supported")
	}
	s.gs2Header = m[:len(flag)+1+len(authzid)+1]
	s.clientFirstBare = bare

	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 {
		return nil, protoErr("client-first-message too short")
	}
	if strings.HasPrefix(attrs[0], "m=") {
		return nil, protoErr("mandatory extensions are not supported")
	}
	// The user name is ignored, as in Postgres: the startup packet's user counts.
	if !strings.HasPrefix(attrs[0], "n=") {
		return nil, protoErr("missing user name")
	}
	cnonce, ok := strings.CutPrefix(attrs[1], "r=")
	if !ok || cnonce == "" || !printable(cnonce) {
		return nil, protoErr("bad client nonce")
	}
	raw := make([]byte, nonceLen)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("scram: nonce: %w", err)
	}
	s.nonce = cnonce + base64.StdEncoding.EncodeToString(raw)
	s.serverFirst = "r=" + s.nonce + ",s=" + base64.StdEncoding.EncodeToString(s.v.Salt) +
		",i=" + strconv.Itoa(s.v.Iterations)
	return []byte(s.serverFirst), nil
}

// ClientFinal verifies the client-final-message and returns the
// server-final-message. On success ClientKey is available.
func (s *Server) ClientFinal(msg []byte) ([]byte, error) {
	if s.serverFirst == "" || s.clientKey != nil {
		return nil, protoErr("unexpected client-final-message")
	}
	m := string(msg)
	i := strings.LastIndex(m, ",p=")
	if i < 0 {
		return nil, protoErr("missing proof")
	}
	withoutProof, proofB64 := m[:i], m[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 {
		return nil, protoErr("client-final-message too short")
	}
	cbB64, ok := strings.CutPrefix(attrs[0], "c=")
	if !ok {
		return nil, protoErr("missing channel binding attribute")
	}
	cb, err := base64.StdEncoding.DecodeString(cbB64)
	if err != nil {
		return nil, protoErr("bad channel binding encoding")
	}
	want := []byte(s.gs2Header)
	if s.bound {
		want = append(want, s.cbData...)
	}
	if !bytes.Equal(cb, want) {
		if s.bound {
			return nil, ErrChannelBinding
		}
		return nil, protoErr("unexpected channel binding data")
	}
	nonce, ok := strings.CutPrefix(attrs[1], "r=")
	if !ok || nonce != s.nonce {
		return nil, protoErr("nonce mismatch")
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return nil, protoErr("bad proof")
	}
	authMsg := []byte(s.clientFirstBare + "," + s.serverFirst + "," + withoutProof)
	sig := hmacSHA256(s.v.StoredKey, authMsg)
	clientKey := make([]byte, sha256.Size)
	for i := range clientKey {
		clientKey[i] = proof[i] ^ sig[i]
	}
	stored := sha256.Sum256(clientKey)
	if !s.v.Valid() || subtle.ConstantTimeCompare(stored[:], s.v.StoredKey) != 1 {
		return nil, ErrAuthFailed
	}
	s.clientKey = clientKey
	return []byte("v=" + base64.StdEncoding.EncodeToString(hmacSHA256(s.v.ServerKey, authMsg))), nil
}

// ClientKey is the key recovered from a successful proof; nil before.
func (s *Server) ClientKey() []byte { return s.clientKey }

// ChannelBound reports whether the client bound the exchange to our TLS
// certificate (SCRAM-SHA-256-PLUS).
func (s *Server) ChannelBound() bool { return s.bound }

// MockVerifier returns a verifier no password matches, with a salt derived
// from user and secret so that repeated probes for an unknown role see a
// stable salt, as Postgres does to avoid revealing which roles exist.
func MockVerifier(user string, secret []byte) Verifier {
	h := sha256.Sum256(append(append([]byte(nil), secret...), user...))
	key := make([]byte, sha256.Size)
	_, _ = rand.Read(key)
	return Verifier{Iterations: DefaultIterations, Salt: h[:saltLen], StoredKey: key, ServerKey: key}
}

// printable reports whether s holds only printable ASCII other than ',', as
// RFC 5802 requires of nonces.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7E || s[i] == ',' {
			return false
		}
	}
	return true
}
