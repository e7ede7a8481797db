package jwtauth

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"math/big"
	"strconv"
)

// times are a verified token's time claims, checked again on every cache
// hit since a cached token expires like any other.
type times struct {
	exp, nbf, iat          int64
	hasExp, hasNbf, hasIat bool
}

// check applies PostgREST's rule (Auth/Jwt.hs checkForErrors) with its 30 s
// leeway: expired when now-30 > exp, early when now+30 < nbf or iat.
func (t *times) check(now int64) error {
	for _, f := range []func(int64) error{t.checkExp, t.checkNbf, t.checkIat} {
		if err := f(now); err != nil {
			return err
		}
	}
	return nil
}

func (t *times) checkExp(now int64) error {
	if t.hasExp && now-leeway > t.exp {
		return claimsError(msgExpired)
	}
	return nil
}

func (t *times) checkNbf(now int64) error {
	if t.hasNbf && now+leeway < t.nbf {
		return claimsError(msgNotYetValid)
	}
	return nil
}

func (t *times) checkIat(now int64) error {
	if t.hasIat && now+leeway < t.iat {
		return claimsError(msgIssuedAtFuture)
	}
	return nil
}

// checkClaims decodes a verified payload and checks it in PostgREST's order
// (exp, nbf, iat, aud; each claim's type, then its value; the first failure
// wins), then iss, then selects the role.
func checkClaims(payload []byte, now int64, rules Rules, path *rolePath) (Result, times, error) {
	claims, ok := decodeObject(payload)
	if !ok {
		return Result{}, times{}, claimsError(msgParsingClaims)
	}
	var t times
	for _, c := range []struct {
		name, notNumber string
		v               *int64
		has             *bool
		check           func(int64) error
	}{
		{"exp", msgExpNotNumber, &t.exp, &t.hasExp, t.checkExp},
		{"nbf", msgNbfNotNumber, &t.nbf, &t.hasNbf, t.checkNbf},
		{"iat", msgIatNotNumber, &t.iat, &t.hasIat, t.checkIat},
	} {
		var err error
		if *c.v, *c.has, err = timeClaim(claims, c.name, c.notNumber); err != nil {
			return Result{}, t, err
		}
		if err := c.check(now); err != nil {
			return Result{}, t, err
		}
	}
	if err := checkAudience(claims["aud"], rules.Audience); err != nil {
		return Result{}, t, err
	}
	if rules.Issuer != "" {
		if iss, _ := claims["iss"].(string); iss != rules.Issuer {
			return Result{}, t, claimsError(msgWrongIssuer)
		}
	}
	res := Result{Claims: payload}
	if v, ok := path.eval(claims); ok {
		res.Role = roleText(v)
	}
	return res, t, nil
}

// decodeObject decodes a JSON object and nothing after it, numbers kept
// as written.
func decodeObject(b []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return m, true
}

// timeClaim reads a numeric date. Absent and null are no claim; any other
// non-number is PostgREST's "must be a number".
func timeClaim(claims map[string]any, name, notNumber string) (int64, bool, error) {
	raw, ok := claims[name]
	if !ok || raw == nil {
		return 0, false, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return 0, false, claimsError(notNumber)
	}
	return seconds(n), true, nil
}

// seconds is PostgREST's sciToInt: the number when it is an integer that
// fits in 64 bits, else 0 (so exp 1.5 or 1e30 counts as expired, as there).
func seconds(n json.Number) int64 {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.Abs(f) >= 1<<63 || f != math.Trunc(f) {
		return 0
	}
	if math.Abs(f) < 1<<53 {
		return int64(f)
	}
	// Past 2^53 a float64 may have rounded; decide exactly.
	bf, _, err := big.ParseFloat(string(n), 10, 256, big.ToNearestEven)
	if err != nil || !bf.IsInt() {
		return 0
	}
	i, acc := bf.Int64()
	if acc != big.Exact {
		return 0
	}
	return i
}

// checkAudience is PostgREST's: aud must be a string or an array of
// strings (null is no claim); with an audience configured, a string must
// equal it and a non-empty array contain it.
func checkAudience(aud any, want string) error {
	switch a := aud.(type) {
	case nil:
		return nil
	case string:
		if want != "" && a != want {
			return claimsError(msgNotInAudience)
		}
		return nil
	case []any:
		found := false
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return claimsError(msgAudNotString)
			}
			found = found || s == want
		}
		if want != "" && len(a) > 0 && !found {
			return claimsError(msgNotInAudience)
		}
		return nil
	default:
		return claimsError(msgAudNotString)
	}
}

// roleText is PostgREST's unquoted: a string as is, anything else as JSON.
func roleText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}
