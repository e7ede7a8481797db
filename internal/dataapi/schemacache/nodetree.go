package schemacache

import (
	"fmt"
	"strconv"
	"strings"
)

// origin is where a view column comes from: a column (attnum) of a table
// or of another view; Rel 0 when the column is computed.
type origin struct {
	Rel int64
	Col int
}

// targetOrigins reads a view's _RETURN rule (pg_rewrite.ev_action, a
// pg_node_tree printed as text) and returns, by view column number, the
// origin Postgres recorded in each TARGETENTRY (resorigtbl, resorigcol).
// Only the top-level query's target list counts: origins inside
// subqueries are already folded into it by the parser.
func targetOrigins(def string) (map[int]origin, error) {
	p := &treeParser{src: def}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	queries, ok := v.([]any)
	if !ok || len(queries) == 0 {
		return nil, fmt.Errorf("view rule is not a list of queries")
	}
	q, ok := queries[0].(*treeNode)
	if !ok || q.typ != "QUERY" {
		return nil, fmt.Errorf("view rule does not start with a QUERY node")
	}
	out := map[int]origin{}
	tl, _ := q.first("targetList").([]any)
	for _, e := range tl {
		te, ok := e.(*treeNode)
		if !ok || te.typ != "TARGETENTRY" || te.atom("resjunk") == "true" {
			continue
		}
		resno, err := strconv.Atoi(te.atom("resno"))
		if err != nil {
			return nil, fmt.Errorf("target entry resno %q: %w", te.atom("resno"), err)
		}
		rel, _ := strconv.ParseInt(te.atom("resorigtbl"), 10, 64)
		col, _ := strconv.Atoi(te.atom("resorigcol"))
		out[resno] = origin{Rel: rel, Col: col}
	}
	return out, nil
}

// treeNode is a {TYPE :field value ...} node; a field's value is the
// sequence of items up to the next field.
type treeNode struct {
	typ    string
	fields map[string][]any
}

func (n *treeNode) first(field string) any {
	if vs := n.fields[field]; len(vs) > 0 {
		return vs[0]
	}
	return nil
}

func (n *treeNode) atom(field string) string {
	s, _ := n.first(field).(string)
	return s
}

// treeParser reads the text form of pg_node_tree (outfuncs.c): nodes in
// braces, lists in parentheses, atoms separated by blanks, with
// backslash-escaped blanks and brackets inside atoms.
type treeParser struct {
	src string
	pos int
	tok string // a token pushed back
}

// next returns the next token, "" at the end.
func (p *treeParser) next() string {
	if p.tok != "" {
		t := p.tok
		p.tok = ""
		return t
	}
	for p.pos < len(p.src) && isBlank(p.src[p.pos]) {
		p.pos++
	}
	if p.pos >= len(p.src) {
		return ""
	}
	switch c := p.src[p.pos]; c {
	case '(', ')', '{', '}':
		p.pos++
		return string(c)
	}
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if isBlank(c) || c == '(' || c == ')' || c == '{' || c == '}' {
			break
		}
		if c == '\\' && p.pos+1 < len(p.src) {
			p.pos++
			c = p.src[p.pos]
		}
		b.WriteByte(c)
		p.pos++
	}
	return b.String()
}

func isBlank(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// value reads one item: a node, a list or an atom.
func (p *treeParser) value() (any, error) {
	switch t := p.next(); t {
	case "":
		return nil, fmt.Errorf("unexpected end of node tree")
	case "{":
		return p.node()
	case "(":
		var list []any
		for {
			t := p.next()
			if t == ")" {
				return list, nil
			}
			if t == "" {
				return nil, fmt.Errorf("unterminated list in node tree")
			}
			p.tok = t
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	case ")", "}":
		return nil, fmt.Errorf("unexpected %q in node tree at %d", t, p.pos)
	default:
		return t, nil
	}
}

func (p *treeParser) node() (*treeNode, error) {
	n := &treeNode{typ: p.next(), fields: map[string][]any{}}
	field := ""
	for {
		t := p.next()
		switch {
		case t == "":
			return nil, fmt.Errorf("unterminated %s node", n.typ)
		case t == "}":
			return n, nil
		case len(t) > 1 && t[0] == ':':
			field = t[1:]
			n.fields[field] = nil
		default:
			p.tok = t
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			n.fields[field] = append(n.fields[field], v)
		}
	}
}
