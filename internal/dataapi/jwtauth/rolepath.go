package jwtauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A role claim key is PostgREST's jwt-role-claim-key. Since v16 it is an
// RFC 9535 JSON path; v16.2 accepts the older dotted syntax again as a
// fallback (Config.hs parseRoleClaimKey, Config/DeprecatedJSPath.hs). Grove
// implements the subset of RFC 9535 a role needs: the root $, member names
// (.name, ['name'], ["name"]), indexes (negative from the end), wildcards
// and filters comparing @ with a literal (== and !=); the first node the
// path selects is the role. The dotted syntax is PostgREST's: .key or
// ."quoted key", [n], and a last [?(@ op "text")] with op one of ==, !=,
// ^== (starts with), ==^ (ends with) and *== (contains), which selects the
// first string of an array that matches.

// CheckRoleClaimKey reports whether Verify can use a role claim key ("" is
// "$.role"); its error reads as PostgREST's startup error. Check a key when
// it is configured: Verify refuses every token with a bad one.
func CheckRoleClaimKey(s string) error {
	_, err := parseRoleClaimKey(s)
	return err
}

func parseRoleClaimKey(s string) (*rolePath, error) {
	if s == "" {
		s = "$.role"
	}
	if p, err := parseRFCPath(s); err == nil {
		return p, nil
	}
	if p, err := parseDottedPath(s); err == nil {
		return p, nil
	}
	return nil, fmt.Errorf("failed to parse role-claim-key value (%s)", s)
}

type stepKind int

const (
	stepName stepKind = iota
	stepIndex
	stepWild
	stepFilter
)

type filterOp int

const (
	opEq filterOp = iota
	opNe
	opPrefix
	opSuffix
	opContains
)

type step struct {
	kind  stepKind
	name  string
	index int
	op    filterOp
	lit   any // a filter's literal: string, json.Number, bool or nil
}

// rolePath is a parsed role claim key.
type rolePath struct {
	dotted bool // the pre-v16 syntax, evaluated as PostgREST's walkJSPath
	steps  []step
}

// eval returns the first value the path selects in claims.
func (p *rolePath) eval(claims map[string]any) (any, bool) {
	if p.dotted {
		return p.walk(claims)
	}
	nodes := []any{claims}
	for _, s := range p.steps {
		var next []any
		for _, n := range nodes {
			next = s.apply(n, next)
		}
		if len(next) == 0 {
			return nil, false
		}
		nodes = next
	}
	return nodes[0], true
}

// apply appends the nodes s selects from n (RFC 9535 §2.3).
func (s *step) apply(n any, out []any) []any {
	switch s.kind {
	case stepName:
		if o, ok := n.(map[string]any); ok {
			if v, ok := o[s.name]; ok {
				out = append(out, v)
			}
		}
	case stepIndex:
		if a, ok := n.([]any); ok {
			i := s.index
			if i < 0 {
				i += len(a)
			}
			if i >= 0 && i < len(a) {
				out = append(out, a[i])
			}
		}
	case stepWild, stepFilter:
		for _, c := range children(n) {
			if s.kind == stepWild || s.matches(c) {
				out = append(out, c)
			}
		}
	}
	return out
}

// children lists an array's elements or an object's member values; Go
// maps have no order, so an object's go by name.
func children(n any) []any {
	switch v := n.(type) {
	case []any:
		return v
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = v[k]
		}
		return out
	}
	return nil
}

// matches compares a node with the filter's literal: RFC 9535's == and !=
// (values of different types are not equal), and the dotted syntax's
// string tests, true only of strings.
func (s *step) matches(n any) bool {
	switch s.op {
	case opEq:
		return equalJSON(n, s.lit)
	case opNe:
		return !equalJSON(n, s.lit)
	}
	str, ok := n.(string)
	if !ok {
		return false
	}
	lit, _ := s.lit.(string)
	switch s.op {
	case opPrefix:
		return strings.HasPrefix(str, lit)
	case opSuffix:
		return strings.HasSuffix(str, lit)
	default:
		return strings.Contains(str, lit)
	}
}

func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		fx, errx := x.Float64()
		fy, erry := y.Float64()
		return errx == nil && erry == nil && fx == fy
	}
	return false // arrays and objects never equal a literal
}

// walk is PostgREST's evaluateDeprecatedJSPath: a key on an object, an
// index on an array, and a last filter that picks the first matching string
// of an array.
func (p *rolePath) walk(claims map[string]any) (any, bool) {
	var cur any = claims
	for _, s := range p.steps {
		switch s.kind {
		case stepName:
			o, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = o[s.name]; !ok {
				return nil, false
			}
		case stepIndex:
			a, ok := cur.([]any)
			if !ok || s.index >= len(a) {
				return nil, false
			}
			cur = a[s.index]
		case stepFilter:
			a, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			i := slices.IndexFunc(a, func(e any) bool {
				_, isStr := e.(string)
				return isStr && s.matches(e)
			})
			if i < 0 {
				return nil, false
			}
			cur = a[i]
		}
	}
	return cur, true
}

var errSyntax = errors.New("syntax error")

// pathParser is a cursor over a path's text.
type pathParser struct {
	s string
	i int
}

func (p *pathParser) done() bool { return p.i >= len(p.s) }

func (p *pathParser) peek(prefix string) bool { return strings.HasPrefix(p.s[p.i:], prefix) }

func (p *pathParser) eat(prefix string) bool {
	if p.peek(prefix) {
		p.i += len(prefix)
		return true
	}
	return false
}

// skipBlank skips RFC 9535's blank (space, tab, LF, CR) or, with unicode
// set, any space as Parsec's spaces does.
func (p *pathParser) skipBlank(uni bool) {
	for !p.done() {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if !(r == ' ' || r == '\t' || r == '\n' || r == '\r' || uni && unicode.IsSpace(r)) {
			return
		}
		p.i += n
	}
}

// parseRFCPath parses the RFC 9535 subset.
func parseRFCPath(s string) (*rolePath, error) {
	p := &pathParser{s: s}
	p.skipBlank(false)
	if !p.eat("$") {
		return nil, errSyntax
	}
	path := &rolePath{}
	for {
		p.skipBlank(false)
		if p.done() {
			return path, nil
		}
		var st step
		var err error
		switch {
		case p.eat(".."):
			return nil, errSyntax // descendants: not in the subset
		case p.eat(".*"):
			st.kind = stepWild
		case p.eat("."):
			st.kind, st.name, err = stepName, p.memberName(), nil
			if st.name == "" {
				err = errSyntax
			}
		case p.eat("["):
			st, err = p.rfcSelector()
		default:
			err = errSyntax
		}
		if err != nil {
			return nil, err
		}
		path.steps = append(path.steps, st)
	}
}

// memberName reads RFC 9535's member-name-shorthand.
func (p *pathParser) memberName() string {
	start := p.i
	for !p.done() {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		first := p.i == start
		if !(r == '_' || r >= 0x80 || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || !first && '0' <= r && r <= '9') {
			break
		}
		p.i += n
	}
	return p.s[start:p.i]
}

// rfcSelector reads one bracketed selector, after its "[".
func (p *pathParser) rfcSelector() (step, error) {
	p.skipBlank(false)
	var st step
	switch {
	case p.peek("'") || p.peek(`"`):
		name, err := p.rfcString()
		if err != nil {
			return st, err
		}
		st = step{kind: stepName, name: name}
	case p.eat("*"):
		st.kind = stepWild
	case p.eat("?"):
		p.skipBlank(false)
		paren := p.eat("(")
		p.skipBlank(false)
		if !p.eat("@") {
			return st, errSyntax
		}
		p.skipBlank(false)
		var ok bool
		if st.op, ok = p.filterOp(rfcOps); !ok {
			return st, errSyntax
		}
		p.skipBlank(false)
		lit, err := p.rfcLiteral()
		if err != nil {
			return st, err
		}
		p.skipBlank(false)
		if paren && !p.eat(")") {
			return st, errSyntax
		}
		st.kind, st.lit = stepFilter, lit
	default:
		n, err := p.rfcInt()
		if err != nil {
			return st, err
		}
		st = step{kind: stepIndex, index: n}
	}
	p.skipBlank(false)
	if !p.eat("]") {
		return st, errSyntax
	}
	return st, nil
}

// rfcInt reads RFC 9535's int: 0, or an optional minus and digits without
// a leading zero.
func (p *pathParser) rfcInt() (int, error) {
	start := p.i
	p.eat("-")
	digits := p.i
	for !p.done() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	text := p.s[start:p.i]
	if p.i == digits || p.s[digits] == '0' && (p.i-digits > 1 || digits > start) {
		return 0, errSyntax
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0, errSyntax
	}
	return n, nil
}

// rfcString reads a quoted string with RFC 9535's escapes.
func (p *pathParser) rfcString() (string, error) {
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", errSyntax
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case '/', '\\', '\'', '"':
				if (e == '\'' || e == '"') && e != q {
					return "", errSyntax
				}
				b.WriteByte(e)
			case 'u':
				r, err := p.hex4()
				if err != nil {
					return "", err
				}
				if r >= 0xDC00 && r <= 0xDFFF {
					return "", errSyntax
				}
				if r >= 0xD800 && r < 0xDC00 {
					// A surrogate pair.
					if !p.eat(`\u`) {
						return "", errSyntax
					}
					lo, err := p.hex4()
					if err != nil || lo < 0xDC00 || lo > 0xDFFF {
						return "", errSyntax
					}
					r = (r-0xD800)<<10 + (lo - 0xDC00) + 0x10000
				}
				b.WriteRune(r)
			default:
				return "", errSyntax
			}
		case c < 0x20:
			return "", errSyntax
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", errSyntax
}

func (p *pathParser) hex4() (rune, error) {
	if p.i+4 > len(p.s) {
		return 0, errSyntax
	}
	n, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil {
		return 0, errSyntax
	}
	p.i += 4
	return rune(n), nil
}

// rfcLiteral reads a filter's comparable: a string, a number, true, false
// or null.
func (p *pathParser) rfcLiteral() (any, error) {
	switch {
	case p.peek("'") || p.peek(`"`):
		return p.rfcString()
	case p.eat("true"):
		return true, nil
	case p.eat("false"):
		return false, nil
	case p.eat("null"):
		return nil, nil
	}
	start := p.i
	for !p.done() && strings.IndexByte("+-.0123456789eE", p.s[p.i]) >= 0 {
		p.i++
	}
	n := json.Number(p.s[start:p.i])
	if _, err := n.Float64(); err != nil || !json.Valid([]byte(n)) {
		return nil, errSyntax
	}
	return n, nil
}

// parseDottedPath parses PostgREST's older syntax (Config/DeprecatedJSPath.hs).
func parseDottedPath(s string) (*rolePath, error) {
	p := &pathParser{s: s}
	path := &rolePath{dotted: true}
	for !p.done() {
		var st step
		switch {
		case p.eat("."):
			if p.peek(`"`) {
				var ok bool
				if st.name, ok = p.dottedQuoted(); !ok {
					return nil, errSyntax
				}
			} else {
				st.name = p.bareKey()
				if st.name == "" {
					return nil, errSyntax
				}
			}
			st.kind = stepName
		case p.eat("[?("):
			if !p.eat("@") {
				return nil, errSyntax
			}
			p.skipBlank(true)
			var ok bool
			if st.op, ok = p.filterOp(dottedOps); !ok {
				return nil, errSyntax
			}
			p.skipBlank(true)
			lit, ok := p.dottedQuoted()
			if !ok {
				return nil, errSyntax
			}
			st.kind, st.lit = stepFilter, lit
			// A filter is the last expression.
			if p.s[p.i:] != ")]" {
				return nil, errSyntax
			}
			p.i = len(p.s)
		case p.eat("["):
			start := p.i
			for !p.done() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++
			}
			n, err := strconv.Atoi(p.s[start:p.i])
			if err != nil || !p.eat("]") {
				return nil, errSyntax
			}
			st = step{kind: stepIndex, index: n}
		default:
			return nil, errSyntax
		}
		path.steps = append(path.steps, st)
	}
	if len(path.steps) == 0 {
		return nil, errSyntax
	}
	return path, nil
}

// dottedQuoted reads the dotted syntax's quoted text: no escapes, so no
// quote inside.
func (p *pathParser) dottedQuoted() (string, bool) {
	if !p.eat(`"`) {
		return "", false
	}
	end := strings.IndexByte(p.s[p.i:], '"')
	if end < 0 {
		return "", false
	}
	text := p.s[p.i : p.i+end]
	p.i += end + 1
	return text, true
}

type opText struct {
	text string
	op   filterOp
}

var (
	rfcOps = []opText{{"==", opEq}, {"!=", opNe}}
	// ==^ before its prefix ==, as PostgREST's matchOperator.
	dottedOps = []opText{{"==^", opSuffix}, {"==", opEq}, {"!=", opNe}, {"^==", opPrefix}, {"*==", opContains}}
)

func (p *pathParser) filterOp(ops []opText) (filterOp, bool) {
	for _, o := range ops {
		if p.eat(o.text) {
			return o.op, true
		}
	}
	return 0, false
}

// bareKey reads Parsec's many1 (alphaNum <|> oneOf "_$@").
func (p *pathParser) bareKey() string {
	start := p.i
	for !p.done() {
		r, n := utf8.DecodeRuneInString(p.s[p.i:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) || strings.ContainsRune("_$@", r)) {
			break
		}
		p.i += n
	}
	return p.s[start:p.i]
}
