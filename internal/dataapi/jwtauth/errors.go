package jwtauth

import (
	"net/http"

	"github.com/grovedb/grove/internal/dataapi/apierr"
)

// PostgREST's JWT error codes and messages (src/PostgREST/Error.hs, instance
// ErrorBody JwtError; unchanged from v12 to v16).
const (
	codeSecretMissing = "PGRST300"
	codeDecode        = "PGRST301"
	codeClaims        = "PGRST303"

	msgSecretMissing = "Server lacks JWT secret"

	msgEmpty        = "Empty JWT is sent in Authorization header"
	msgKeyError     = "No suitable key or wrong key type"
	msgBadAlgorithm = "Wrong or unsupported encoding algorithm"
	msgBadCrypto    = "JWT cryptographic operation failed"

	msgExpired        = "JWT expired"
	msgNotYetValid    = "JWT not yet valid"
	msgIssuedAtFuture = "JWT issued at future"
	msgNotInAudience  = "JWT not in audience"
	msgParsingClaims  = "Parsing claims failed"
	msgExpNotNumber   = "The JWT 'exp' claim must be a number"
	msgNbfNotNumber   = "The JWT 'nbf' claim must be a number"
	msgIatNotNumber   = "The JWT 'iat' claim must be a number"
	msgAudNotString   = "The JWT 'aud' claim must be a string or an array of strings"
	// Grove's own: PostgREST does not check iss.
	msgWrongIssuer = "JWT issuer not accepted"

	// The details jose-jwt gives, which PostgREST passes on.
	detailsNoKey = "None of the keys was able to decode the JWT"
	detailsNone  = "JWT is unsecured but expected 'alg' was not 'none'"
)

// decodeError is PGRST301, a token that does not decode or verify.
func decodeError(msg, details string) *apierr.Error {
	return invalidToken(codeDecode, msg, details)
}

// claimsError is PGRST303, a claim that fails its check.
func claimsError(msg string) *apierr.Error {
	return invalidToken(codeClaims, msg, "")
}

// invalidToken carries PostgREST's header for a refused token: the message
// in error_description, quoted as Haskell's show quotes it (the messages
// hold no character it would escape).
func invalidToken(code, msg, details string) *apierr.Error {
	return &apierr.Error{
		Status:  http.StatusUnauthorized,
		Code:    code,
		Message: msg,
		Details: details,
		Headers: map[string]string{
			"WWW-Authenticate": `Bearer error="invalid_token", error_description="` + msg + `"`,
		},
	}
}

// secretMissing is PGRST300: there are no keys to verify with. The cause
// (nothing configured, a JWKS that could not be fetched) is logged, not sent.
func secretMissing(cause error) *apierr.Error {
	return &apierr.Error{Status: http.StatusInternalServerError, Code: codeSecretMissing,
		Message: msgSecretMissing, Err: cause}
}
