package query

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/grovedb/grove/internal/dataapi/apierr"
)

// Parse reads a raw query string (r.URL.RawQuery). Its errors are
// PostgREST's 400 PGRST100, naming the parameter and the column where
// parsing stopped.
func Parse(rawQuery string) (*Params, error) {
	pairs, err := splitQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	p := &Params{Ranges: map[string]Range{}}
	selectSeen := false
	type rangePart struct {
		limit, offset *int64
	}
	ranges := map[string]*rangePart{}
	for _, kv := range pairs {
		k, v := kv[0], kv[1]
		last := k
		if i := strings.LastIndexByte(k, '.'); i >= 0 {
			last = k[i+1:]
		}
		switch {
		case k == "select":
			items, err := parseSelect(v)
			if err != nil {
				return nil, err
			}
			p.Select, selectSeen = items, true
		case k == "columns":
			cols, err := parseColumns(v, "columns parameter")
			if err != nil {
				return nil, err
			}
			p.Columns = cols
		case k == "on_conflict":
			cols, err := parseColumns(v, "on_conflict parameter")
			if err != nil {
				return nil, err
			}
			p.OnConflict = cols
		case v == "":
			// PostgREST drops parameters without a value.
		case last == "order":
			path, err := parseTreePathOnly(k)
			if err != nil {
				return nil, err
			}
			terms, err := parseOrder(v)
			if err != nil {
				return nil, err
			}
			p.Order = append(p.Order, OrderParam{Path: path[:len(path)-1], Terms: terms})
		case last == "limit" || last == "offset":
			path, err := parseTreePathOnly(k)
			if err != nil {
				return nil, err
			}
			key := strings.Join(path[:len(path)-1], ".")
			rp := ranges[key]
			if rp == nil {
				rp = &rangePart{}
				ranges[key] = rp
			}
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil && n < 0 && last == "limit" && key == "" {
				// An empty window other than limit=0 is refused, as PostgREST
				// does; a negative offset is no offset.
				return nil, &apierr.Error{Status: http.StatusRequestedRangeNotSatisfiable, Code: "PGRST103",
					Message: "Requested range not satisfiable", Details: "Limit should be greater than or equal to zero."}
			}
			if err != nil || n < 0 {
				continue // as PostgREST: an unreadable limit or offset is no limit
			}
			if last == "limit" {
				rp.limit = &n
			} else {
				rp.offset = &n
			}
		case last == "and" || last == "or":
			lp, err := parseLogicParam(k, v)
			if err != nil {
				return nil, err
			}
			p.Logic = append(p.Logic, lp)
		case strings.Contains(k, ".") || hasOperator(v):
			f, err := parseFilter(k, v)
			if err != nil {
				return nil, err
			}
			p.Filters = append(p.Filters, f)
		default:
			p.Args = append(p.Args, [2]string{k, v})
		}
	}
	if !selectSeen {
		p.Select = []SelectItem{{Star: true}}
	}
	for key, rp := range ranges {
		var r Range
		if rp.offset != nil {
			r.Offset = *rp.offset
		}
		if rp.limit != nil {
			r.Limit, r.HasLimit = *rp.limit, true
		}
		p.Ranges[key] = r
	}
	return p, nil
}

// splitQuery decodes a query string in order, '+' as a space.
func splitQuery(raw string) ([][2]string, error) {
	var out [][2]string
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			return nil, badRequest(fmt.Sprintf("invalid query parameter %q", k), err.Error())
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			return nil, badRequest(fmt.Sprintf("invalid value of query parameter %q", dk), err.Error())
		}
		out = append(out, [2]string{dk, dv})
	}
	return out, nil
}

func badRequest(msg, details string) *apierr.Error {
	return &apierr.Error{Status: http.StatusBadRequest, Code: "PGRST100", Message: msg, Details: details}
}

// hasOperator reports whether a parameter's value is a filter, as
// PostgREST decides it (a value starting with an operator).
func hasOperator(v string) bool {
	parts := strings.Split(v, ".")
	switch {
	case len(parts) >= 2 && parts[0] == "not":
		return true
	case parts[0] == OpIs || parts[0] == OpIn:
		return true
	}
	op := parts[0]
	if i := strings.IndexByte(op, '('); i >= 0 {
		op = op[:i]
	}
	return simpleOps[op] || ftsOps[op]
}

// scanner walks one parameter's text.
type scanner struct {
	s    string
	i    int
	what string // "select parameter (…)", for errors
}

func newScanner(what, s string) *scanner {
	return &scanner{s: s, what: fmt.Sprintf("failed to parse %s (%s)", what, s)}
}

func (p *scanner) fail(format string, args ...any) error {
	col := len([]rune(p.s[:min(p.i, len(p.s))])) + 1
	return badRequest(fmt.Sprintf("%q (line 1, column %d)", p.what, col), fmt.Sprintf(format, args...))
}

func (p *scanner) eof() bool { return p.i >= len(p.s) }

func (p *scanner) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}

func (p *scanner) has(prefix string) bool { return strings.HasPrefix(p.s[p.i:], prefix) }

func (p *scanner) accept(prefix string) bool {
	if p.has(prefix) {
		p.i += len(prefix)
		return true
	}
	return false
}

func (p *scanner) ws() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// unexpected describes what stopped the parser, in Parsec's words.
func (p *scanner) unexpected() string {
	if p.eof() {
		return "unexpected end of input"
	}
	r := []rune(p.s[p.i:])[0]
	return fmt.Sprintf("unexpected %q", string(r))
}

func isIdentRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == ' ' || r == '$'
}

// identifier reads letters, digits, '_', ' ' and '$', trimmed of spaces.
func (p *scanner) identifier() string {
	start := p.i
	for !p.eof() {
		r, n := decodeRune(p.s[p.i:])
		if !isIdentRune(r) {
			break
		}
		p.i += n
	}
	return strings.TrimSpace(p.s[start:p.i])
}

func decodeRune(s string) (rune, int) {
	for i, r := range s {
		if i == 0 {
			return r, len(string(r))
		}
	}
	return 0, 0
}

// quoted reads "…" with backslash escapes; ok is false when the text does
// not start with a quote.
func (p *scanner) quoted() (string, bool, error) {
	if p.peek() != '"' {
		return "", false, nil
	}
	start := p.i
	p.i++
	var b strings.Builder
	for !p.eof() {
		c := p.s[p.i]
		switch c {
		case '\\':
			if p.i+1 >= len(p.s) {
				p.i++
				return "", true, p.fail("unexpected end of input")
			}
			r, n := decodeRune(p.s[p.i+1:])
			b.WriteRune(r)
			p.i += 1 + n
		case '"':
			p.i++
			return b.String(), true, nil
		default:
			r, n := decodeRune(p.s[p.i:])
			b.WriteRune(r)
			p.i += n
		}
	}
	p.i = start
	return "", true, p.fail("unexpected end of input expecting \"\\\"\"")
}

// fieldName reads a quoted name, or identifiers joined by dashes (a dash
// not starting an arrow).
func (p *scanner) fieldName() (string, error) {
	if s, ok, err := p.quoted(); ok {
		return s, err
	}
	var parts []string
	for {
		id := p.identifier()
		if id == "" {
			if len(parts) == 0 {
				return "", p.fail("%s expecting field name (* or [a..z0..9_$])", p.unexpected())
			}
			return "", p.fail("%s expecting letter or digit", p.unexpected())
		}
		parts = append(parts, id)
		if p.has("-") && !p.has("->") {
			p.i++
			continue
		}
		return strings.Join(parts, "-"), nil
	}
}

// jsonPath reads ->key, ->>key, ->0 steps.
func (p *scanner) jsonPath() ([]JSONStep, error) {
	var path []JSONStep
	for p.has("->") {
		step := JSONStep{}
		if p.accept("->>") {
			step.Text = true
		} else {
			p.i += 2
		}
		if k, ok := p.index(); ok {
			step.Key, step.Index = k, true
		} else {
			name, err := p.fieldName()
			if err != nil {
				return nil, err
			}
			step.Key = name
		}
		path = append(path, step)
	}
	return path, nil
}

// index reads an array index that ends where a path step may end.
func (p *scanner) index() (string, bool) {
	j := p.i
	if j < len(p.s) && p.s[j] == '-' {
		j++
	}
	d := j
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	if j == d {
		return "", false
	}
	rest := p.s[j:]
	if rest == "" || strings.HasPrefix(rest, "->") || strings.HasPrefix(rest, "::") ||
		strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, ",") || strings.HasPrefix(rest, ")") {
		k := p.s[p.i:j]
		if k[0] != '-' {
			k = "+" + k
		}
		p.i = j
		return k, true
	}
	return "", false
}

func (p *scanner) field() (Field, error) {
	p.ws()
	name, err := p.fieldName()
	if err != nil {
		return Field{}, err
	}
	path, err := p.jsonPath()
	if err != nil {
		return Field{}, err
	}
	p.ws()
	return Field{Name: name, Path: path}, nil
}

// parseColumns reads names separated by commas (columns=, on_conflict=).
func parseColumns(v, what string) ([]string, error) {
	p := newScanner(what, v)
	var cols []string
	for {
		p.ws()
		name, err := p.fieldName()
		if err != nil {
			return nil, err
		}
		cols = append(cols, name)
		p.ws()
		if p.eof() {
			return cols, nil
		}
		if !p.accept(",") {
			return nil, p.fail("%s expecting \",\" or end of input", p.unexpected())
		}
	}
}

// parseTreePathOnly reads a key of names separated by dots.
func parseTreePathOnly(k string) ([]string, error) {
	p := newScanner("tree path", k)
	var path []string
	for {
		name, err := p.fieldName()
		if err != nil {
			return nil, err
		}
		path = append(path, name)
		if p.eof() {
			return path, nil
		}
		if !p.accept(".") {
			return nil, p.fail("%s expecting delimiter (.)", p.unexpected())
		}
	}
}

// parseFilter reads key=value: an embedding path and field, and an
// operation.
func parseFilter(k, v string) (Filter, error) {
	kp := newScanner("tree path", k)
	var names []string
	for {
		name, err := kp.fieldName()
		if err != nil {
			return Filter{}, err
		}
		names = append(names, name)
		if !kp.accept(".") {
			break
		}
	}
	path, err := kp.jsonPath()
	if err != nil {
		return Filter{}, err
	}
	if !kp.eof() {
		return Filter{}, kp.fail("%s expecting delimiter (.) or end of input", kp.unexpected())
	}
	f := Filter{Path: names[:len(names)-1], Field: Field{Name: names[len(names)-1], Path: path}}
	vp := newScanner("filter", v)
	f.Negate, f.Op, err = vp.opExpr(false)
	if err != nil {
		return Filter{}, err
	}
	return f, nil
}

// opExpr reads [not.]op.value. In a logic tree (inLogic) a single value
// ends at ',' or ')' unless quoted; elsewhere it is the rest of the text.
func (p *scanner) opExpr(inLogic bool) (bool, Operation, error) {
	negate := p.accept("not.")
	switch {
	case p.accept("in."):
		list, err := p.list()
		return negate, Operation{Op: OpIn, List: list}, err
	case p.accept("is."):
		for _, v := range []string{IsNull, IsNotNull, IsUnknown, IsTrue, IsFalse} {
			if len(p.s)-p.i >= len(v) && strings.EqualFold(p.s[p.i:p.i+len(v)], v) {
				p.i += len(v)
				if inLogic || p.eof() {
					return negate, Operation{Op: OpIs, Value: v}, nil
				}
				return negate, Operation{}, p.fail("%s expecting end of input", p.unexpected())
			}
		}
		return negate, Operation{}, p.fail("%s expecting null or trilean value (unknown, true, false)", p.unexpected())
	}
	start := p.i
	for !p.eof() && p.s[p.i] != '.' && p.s[p.i] != '(' {
		p.i++
	}
	op := p.s[start:p.i]
	if ftsOps[op] {
		o := Operation{Op: op}
		if p.accept("(") {
			o.Lang = p.identifier()
			if !p.accept(")") {
				return negate, o, p.fail("%s expecting \")\"", p.unexpected())
			}
		}
		if !p.accept(".") {
			return negate, o, p.fail("%s expecting delimiter (.)", p.unexpected())
		}
		v, err := p.singleValue(inLogic)
		o.Value = v
		return negate, o, err
	}
	if !simpleOps[op] {
		if negate {
			// PostgREST tries not.<op> first, then reads "not" itself as
			// the operator: that is the error it reports.
			p.i = len("not.")
			return false, Operation{}, p.fail("unknown single value operator not")
		}
		p.i = start
		for !p.eof() && p.s[p.i] != '.' {
			p.i++
		}
		if p.eof() {
			return negate, Operation{}, p.fail("%s expecting operator (eq, gt, ...)", p.unexpected())
		}
		p.i++ // past the delimiter, where PostgREST stops
		return negate, Operation{}, p.fail("unknown single value operator %s", p.s[start:p.i-1])
	}
	o := Operation{Op: op}
	if p.accept("(") {
		switch {
		case p.accept("any)"):
			o.Quant = "any"
		case p.accept("all)"):
			o.Quant = "all"
		default:
			return negate, o, p.fail("%s expecting \"any\" or \"all\"", p.unexpected())
		}
		if !quantifiable[op] {
			return negate, o, p.fail("unknown single value operator %s(%s)", op, o.Quant)
		}
	}
	if !p.accept(".") {
		return negate, o, p.fail("%s expecting delimiter (.)", p.unexpected())
	}
	if o.Quant != "" {
		list, err := p.braceList()
		o.List = list
		return negate, o, err
	}
	v, err := p.singleValue(inLogic)
	o.Value = v
	return negate, o, err
}

func (p *scanner) singleValue(inLogic bool) (string, error) {
	if !inLogic {
		v := p.s[p.i:]
		p.i = len(p.s)
		return v, nil
	}
	start := p.i
	if s, ok, err := p.quoted(); ok && err == nil && (p.eof() || p.peek() == ',' || p.peek() == ')') {
		return s, nil
	}
	p.i = start
	if p.peek() == '{' {
		if j := strings.IndexAny(p.s[p.i+1:], "{}"); j >= 0 && p.s[p.i+1+j] == '}' {
			v := p.s[p.i : p.i+j+2]
			p.i += j + 2
			return v, nil
		}
	}
	for !p.eof() && p.s[p.i] != ',' && p.s[p.i] != ')' {
		p.i++
	}
	return p.s[start:p.i], nil
}

// list reads (a,"b,c",d) for in.
func (p *scanner) list() ([]string, error) {
	p.ws()
	if !p.accept("(") {
		return nil, p.fail("%s expecting \"(\"", p.unexpected())
	}
	p.ws()
	if p.accept(")") {
		p.ws()
		if !p.eof() && p.peek() != ',' && p.peek() != ')' {
			return nil, p.fail("%s expecting end of input", p.unexpected())
		}
		return []string{}, nil
	}
	var out []string
	for {
		start := p.i
		if s, ok, err := p.quoted(); ok && err == nil && (p.peek() == ',' || p.peek() == ')') {
			out = append(out, s)
		} else {
			p.i = start
			for !p.eof() && p.s[p.i] != ',' && p.s[p.i] != ')' {
				p.i++
			}
			out = append(out, p.s[start:p.i])
		}
		if p.accept(",") {
			continue
		}
		if !p.accept(")") {
			return nil, p.fail("%s expecting \",\" or \")\"", p.unexpected())
		}
		p.ws()
		return out, nil
	}
}

// braceList reads {a,"b,c"} for the (any) and (all) modifiers.
func (p *scanner) braceList() ([]string, error) {
	if !p.accept("{") {
		return nil, p.fail("%s expecting \"{\"", p.unexpected())
	}
	var out []string
	if p.accept("}") {
		return out, nil
	}
	for {
		start := p.i
		if s, ok, err := p.quoted(); ok && err == nil && (p.peek() == ',' || p.peek() == '}') {
			out = append(out, s)
		} else {
			p.i = start
			for !p.eof() && p.s[p.i] != ',' && p.s[p.i] != '}' {
				p.i++
			}
			out = append(out, p.s[start:p.i])
		}
		if p.accept(",") {
			continue
		}
		if !p.accept("}") {
			return nil, p.fail("%s expecting \",\" or \"}\"", p.unexpected())
		}
		return out, nil
	}
}

// parseLogicParam reads [path.][not.]and=(…) / or=(…).
func parseLogicParam(k, v string) (LogicParam, error) {
	kp := newScanner("logic path", k)
	var names []string
	for {
		name, err := kp.fieldName()
		if err != nil {
			return LogicParam{}, err
		}
		names = append(names, name)
		if kp.eof() {
			break
		}
		if !kp.accept(".") {
			return LogicParam{}, kp.fail("%s expecting delimiter (.)", kp.unexpected())
		}
	}
	op := names[len(names)-1]
	var path []string
	negate := false
	for _, n := range names[:len(names)-1] {
		if n == "not" {
			negate = true
			continue
		}
		path = append(path, n)
	}
	prefix := op
	if negate {
		prefix = "not." + op
	}
	p := newScanner("logic tree", v)
	p.s = prefix + v // parse "or(…)" as the tree's root, as PostgREST does
	tree, err := p.logicTree()
	if err != nil {
		return LogicParam{}, err
	}
	p.ws()
	if !p.eof() {
		return LogicParam{}, p.fail("%s expecting end of input", p.unexpected())
	}
	return LogicParam{Path: path, Tree: tree}, nil
}

func (p *scanner) logicTree() (Logic, error) {
	p.ws()
	start := p.i
	negate := p.accept("not.")
	var or bool
	switch {
	case p.has("and(") || p.has("and ("):
		p.i += 3
	case p.has("or(") || p.has("or ("):
		p.i += 2
		or = true
	default:
		// A leaf: field.op.value.
		p.i = start
		f, err := p.field()
		if err != nil {
			return Logic{}, err
		}
		if !p.accept(".") {
			return Logic{}, p.fail("%s expecting letter, digit, \"-\", \"->>\", \"->\" or delimiter (.)", p.unexpected())
		}
		neg, op, err := p.opExpr(true)
		if err != nil {
			return Logic{}, err
		}
		p.ws()
		return Logic{Filter: &Filter{Field: f, Negate: neg, Op: op}}, nil
	}
	p.ws()
	if !p.accept("(") {
		return Logic{}, p.fail("%s expecting \"(\"", p.unexpected())
	}
	l := Logic{Negate: negate, Or: or}
	for {
		p.ws()
		if p.peek() == ')' {
			return Logic{}, p.fail("%s expecting field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)", p.unexpected())
		}
		child, err := p.logicTree()
		if err != nil {
			return Logic{}, err
		}
		l.Children = append(l.Children, child)
		p.ws()
		if p.accept(",") {
			continue
		}
		if !p.accept(")") {
			return Logic{}, p.fail("%s expecting \",\" or \")\"", p.unexpected())
		}
		p.ws()
		return l, nil
	}
}

// parseOrder reads order=a.desc.nullslast,rel(b).asc.
func parseOrder(v string) ([]OrderTerm, error) {
	p := newScanner("order", v)
	var terms []OrderTerm
	for {
		p.ws()
		var t OrderTerm
		start := p.i
		name, err := p.fieldName()
		if err != nil {
			return nil, err
		}
		if p.accept("(") {
			t.Relation = name
			if t.Field, err = p.field(); err != nil {
				return nil, err
			}
			if !p.accept(")") {
				return nil, p.fail("%s expecting \")\"", p.unexpected())
			}
		} else {
			p.i = start
			if t.Field, err = p.field(); err != nil {
				return nil, err
			}
		}
		if p.has(".") {
			switch {
			case p.accept("." + Asc):
				t.Dir = Asc
			case p.accept("." + Desc):
				t.Dir = Desc
			}
			switch {
			case p.accept("." + NullsFirst):
				t.Nulls = NullsFirst
			case p.accept("." + NullsLast):
				t.Nulls = NullsLast
			}
			if p.has(".") {
				p.i++
				if t.Dir == "" {
					return nil, p.fail("%s expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\"", p.unexpected())
				}
				return nil, p.fail("%s expecting \"nullsfirst\" or \"nullslast\"", p.unexpected())
			}
		}
		terms = append(terms, t)
		p.ws()
		if p.eof() {
			return terms, nil
		}
		if !p.accept(",") {
			return nil, p.fail("%s expecting delimiter (.), \",\" or end of input", p.unexpected())
		}
	}
}

// aggregates are the functions select= may apply to a column.
var aggregates = map[string]bool{"count": true, "sum": true, "avg": true, "max": true, "min": true}

// parseSelect reads select=.
func parseSelect(v string) ([]SelectItem, error) {
	p := newScanner("select parameter", v)
	items, err := p.selectList()
	if err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, p.fail("%s expecting \",\" or end of input", p.unexpected())
	}
	return items, nil
}

func (p *scanner) selectList() ([]SelectItem, error) {
	var items []SelectItem
	for {
		p.ws()
		it, err := p.selectItem()
		if err != nil {
			return nil, err
		}
		items = append(items, it)
		p.ws()
		if !p.accept(",") {
			return items, nil
		}
	}
}

func (p *scanner) selectItem() (SelectItem, error) {
	if p.accept("...") {
		name, err := p.fieldName()
		if err != nil {
			return SelectItem{}, err
		}
		it := SelectItem{Relation: name, Spread: true}
		if err := p.embedRest(&it); err != nil {
			return SelectItem{}, err
		}
		return it, nil
	}
	if p.accept("*") {
		p.ws()
		if !p.eof() && p.peek() != ',' && p.peek() != ')' {
			return SelectItem{}, p.fail("%s expecting \")\", \",\" or end of input", p.unexpected())
		}
		return SelectItem{Star: true}, nil
	}
	var it SelectItem
	start := p.i
	if name, err := p.fieldName(); err == nil && p.has(":") && !p.has("::") {
		p.i++
		it.Alias = name
		p.ws()
	} else {
		p.i = start
	}
	name, err := p.fieldName()
	if err != nil {
		return SelectItem{}, err
	}
	if name == "count" && p.has("()") {
		p.i += 2
		it.Aggregate = "count"
		if err := p.cast(&it.Cast); err != nil {
			return SelectItem{}, err
		}
		return it, p.selectEnd()
	}
	if p.has("!") || p.has("(") {
		it.Relation = name
		if err := p.embedRest(&it); err != nil {
			return SelectItem{}, err
		}
		return it, nil
	}
	path, err := p.jsonPath()
	if err != nil {
		return SelectItem{}, err
	}
	it.Field = Field{Name: name, Path: path}
	if err := p.cast(&it.Cast); err != nil {
		return SelectItem{}, err
	}
	if p.has(".") {
		p.i++
		agg := p.identifier()
		if !aggregates[agg] || !p.accept("()") {
			return SelectItem{}, p.fail("%s expecting aggregate function (count, sum, avg, max, min)", p.unexpected())
		}
		it.Aggregate, it.FieldCast, it.Cast = agg, it.Cast, ""
		if err := p.cast(&it.Cast); err != nil {
			return SelectItem{}, err
		}
	}
	return it, p.selectEnd()
}

func (p *scanner) cast(dst *string) error {
	if !p.accept("::") {
		return nil
	}
	c := p.identifier()
	if c == "" {
		return p.fail("%s expecting letter or digit", p.unexpected())
	}
	*dst = c
	return nil
}

func (p *scanner) selectEnd() error {
	p.ws()
	if p.eof() || p.peek() == ',' || p.peek() == ')' {
		return nil
	}
	return p.fail("%s expecting letter, digit, \"-\", \"->>\", \"->\", \"::\", \".\", \")\", \",\" or end of input", p.unexpected())
}

// embedRest reads !hint!inner(children) after a relation's name.
func (p *scanner) embedRest(it *SelectItem) error {
	for range 2 {
		if !p.accept("!") {
			break
		}
		switch {
		case p.has(JoinInner) && !p.hasIdentAfter(len(JoinInner)):
			p.i += len(JoinInner)
			it.Join = JoinInner
		case p.has(JoinLeft) && !p.hasIdentAfter(len(JoinLeft)):
			p.i += len(JoinLeft)
			it.Join = JoinLeft
		default:
			h, err := p.fieldName()
			if err != nil {
				return err
			}
			it.Hint = h
		}
	}
	if !p.accept("(") {
		return p.fail("%s expecting \"(\"", p.unexpected())
	}
	p.ws()
	if p.accept(")") {
		// rel() embeds nothing but still filters, as PostgREST's empty
		// embedding does.
		return nil
	}
	children, err := p.selectList()
	if err != nil {
		return err
	}
	it.Children = children
	if !p.accept(")") {
		return p.fail("%s expecting \",\" or \")\"", p.unexpected())
	}
	return nil
}

func (p *scanner) hasIdentAfter(n int) bool {
	if p.i+n >= len(p.s) {
		return false
	}
	r, _ := decodeRune(p.s[p.i+n:])
	return isIdentRune(r) || r == '-'
}

// CheckArgsAsFilters reports the first of Args that does not parse as a
// filter. Args are a function's arguments; on a table or view every
// parameter that is not reserved is a filter, and one that does not parse
// is PostgREST's PGRST100.
func (p *Params) CheckArgsAsFilters() error {
	for _, a := range p.Args {
		if _, err := parseFilter(a[0], a[1]); err != nil {
			return err
		}
	}
	return nil
}
