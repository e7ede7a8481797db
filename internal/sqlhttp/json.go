package sqlhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
)

// paramsText converts a request's JSON parameters to the text Postgres
// parses them from, as Neon's proxy does: null is NULL, strings are sent
// as they are, numbers, booleans and objects as their JSON text, and arrays
// as Postgres array literals (element types are left to Postgres).
func paramsText(params []json.RawMessage) ([][]byte, error) {
	out := make([][]byte, len(params))
	for i, p := range params {
		v, err := paramText(p)
		if err != nil {
			return nil, fmt.Errorf("parameter $%d: %w", i+1, err)
		}
		out[i] = v
	}
	return out, nil
}

func paramText(raw json.RawMessage) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("empty value")
	}
	switch raw[0] {
	case 'n':
		return nil, nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []byte(s), nil
	case '[':
		var b []byte
		return appendPGArray(b, raw)
	case '{':
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	default: // numbers and booleans
		return raw, nil
	}
}

// appendPGArray appends the Postgres array literal of a JSON array.
func appendPGArray(b []byte, raw json.RawMessage) ([]byte, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, err
	}
	b = append(b, '{')
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		e = bytes.TrimSpace(e)
		switch e[0] {
		case 'n':
			b = append(b, "NULL"...)
		case '[':
			var err error
			if b, err = appendPGArray(b, e); err != nil {
				return nil, err
			}
		case '"':
			var s string
			if err := json.Unmarshal(e, &s); err != nil {
				return nil, err
			}
			b = appendPGQuoted(b, s)
		case '{':
			var buf bytes.Buffer
			if err := json.Compact(&buf, e); err != nil {
				return nil, err
			}
			b = appendPGQuoted(b, buf.String())
		default:
			b = append(b, e...)
		}
	}
	return append(b, '}'), nil
}

// appendPGQuoted appends s as a double-quoted array element.
func appendPGQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

// Type OIDs the JSON output treats specially.
const (
	oidBool      = 16
	oidInt2      = 21
	oidInt4      = 23
	oidJSON      = 114
	oidFloat4    = 700
	oidFloat8    = 701
	oidJSONB     = 3802
	oidBox       = 603
	maxArrayNest = 6 // Postgres' MAXDIM
)

// typeMap knows the element type of every built-in array type.
var typeMap = pgtype.NewMap()

// elementOID returns the element type of an array type, or 0.
func elementOID(oid uint32) uint32 {
	t, ok := typeMap.TypeForOID(oid)
	if !ok {
		return 0
	}
	if ac, ok := t.Codec.(*pgtype.ArrayCodec); ok && ac.ElementType != nil {
		return ac.ElementType.OID
	}
	return 0
}

// appendValue appends the JSON of one text-format value of type oid: as
// Neon's proxy writes it, booleans, int2/int4 and finite floats become JSON
// scalars, json and jsonb are embedded, arrays of built-in types become
// JSON arrays of their elements converted the same way, and everything else
// (int8 and numeric included, which JSON numbers cannot carry exactly) is a
// string.
func appendValue(b []byte, v []byte, oid uint32) ([]byte, error) {
	if elem := elementOID(oid); elem != 0 {
		return appendArray(b, v, elem)
	}
	switch oid {
	case oidBool:
		if len(v) == 1 && v[0] == 't' {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case oidInt2, oidInt4:
		if _, err := strconv.ParseInt(string(v), 10, 32); err != nil {
			return nil, fmt.Errorf("int value %q: %w", v, err)
		}
		return append(b, v...), nil
	case oidFloat4, oidFloat8:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, fmt.Errorf("float value %q: %w", v, err)
		}
		if f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
			// NaN and infinities have no JSON form: sent as their text.
			return appendJSONString(b, v), nil
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), nil
	case oidJSON, oidJSONB:
		return append(b, v...), nil
	default:
		return appendJSONString(b, v), nil
	}
}

// appendArray converts a Postgres array literal to a JSON array. Bounds
// decorations ("[1:2]={…}") are dropped: JSON has no place for them.
func appendArray(b []byte, v []byte, elem uint32) ([]byte, error) {
	s := string(v)
	if strings.HasPrefix(s, "[") {
		_, rest, ok := strings.Cut(s, "=")
		if !ok {
			return nil, errUnbalancedArray
		}
		s = rest
	}
	delim := byte(',')
	if elem == oidBox {
		delim = ';'
	}
	p := arrayParser{s: strings.TrimLeft(s, " \t\n\r"), elem: elem, delim: delim}
	b, err := p.array(b, 0)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.s) != "" {
		return nil, errUnbalancedArray
	}
	return b, nil
}

var (
	errUnbalancedArray  = errors.New("unbalanced array")
	errUnbalancedString = errors.New("unbalanced quoted string")
)

type arrayParser struct {
	s     string
	elem  uint32
	delim byte
}

func (p *arrayParser) skipSpace() { p.s = strings.TrimLeft(p.s, " \t\n\r") }

func (p *arrayParser) array(b []byte, depth int) ([]byte, error) {
	if depth > maxArrayNest || !strings.HasPrefix(p.s, "{") {
		return nil, errUnbalancedArray
	}
	p.s = p.s[1:]
	b = append(b, '[')
	p.skipSpace()
	if strings.HasPrefix(p.s, "}") { // empty array
		p.s = p.s[1:]
		return append(b, ']'), nil
	}
	for first := true; ; first = false {
		if !first {
			b = append(b, ',')
		}
		var err error
		if b, err = p.item(b, depth); err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.s == "" {
			return nil, errUnbalancedArray
		}
		if p.s[0] == p.delim {
			p.s = p.s[1:]
			continue
		}
		if p.s[0] != '}' {
			return nil, errUnbalancedArray
		}
		p.s = p.s[1:]
		return append(b, ']'), nil
	}
}

func (p *arrayParser) item(b []byte, depth int) ([]byte, error) {
	p.skipSpace()
	switch {
	case strings.HasPrefix(p.s, "{"):
		return p.array(b, depth+1)
	case strings.HasPrefix(p.s, `"`):
		var q []byte
		i := 1
		for {
			if i >= len(p.s) {
				return nil, errUnbalancedString
			}
			c := p.s[i]
			if c == '"' {
				break
			}
			if c == '\\' {
				i++
				if i >= len(p.s) {
					return nil, errUnbalancedString
				}
				c = p.s[i]
			}
			q = append(q, c)
			i++
		}
		p.s = p.s[i+1:]
		return appendValue(b, q, p.elem)
	default:
		end := strings.IndexAny(p.s, string([]byte{p.delim, '}'}))
		if end < 0 {
			return nil, errUnbalancedArray
		}
		item := strings.TrimRight(p.s[:end], " \t\n\r")
		p.s = p.s[end:]
		if item == "NULL" {
			return append(b, "null"...), nil
		}
		return appendValue(b, []byte(item), p.elem)
	}
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
