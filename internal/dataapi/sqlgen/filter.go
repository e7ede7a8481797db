package sqlgen

import (
	"net/http"
	"slices"
	"strings"

	"github.com/grovedb/grove/internal/dataapi/apierr"
	"github.com/grovedb/grove/internal/dataapi/query"
)

var sqlOps = map[string]string{
	query.OpEq: "=", query.OpNeq: "<>", query.OpGt: ">", query.OpGte: ">=", query.OpLt: "<", query.OpLte: "<=",
	query.OpLike: "LIKE", query.OpILike: "ILIKE", query.OpMatch: "~", query.OpIMatch: "~*",
	query.OpCs: "@>", query.OpCd: "<@", query.OpOv: "&&", query.OpSl: "<<", query.OpSr: ">>",
	query.OpNxr: "&<", query.OpNxl: "&>", query.OpAdj: "-|-", query.OpIsDistinct: "IS DISTINCT FROM",
}

var ftsFuncs = map[string]string{
	query.OpFts: "to_tsquery", query.OpPlFts: "plainto_tsquery", query.OpPhFts: "phraseto_tsquery", query.OpWFts: "websearch_to_tsquery",
}

var isValues = map[string]string{
	query.IsNull: "NULL", query.IsNotNull: "NOT NULL", query.IsTrue: "TRUE", query.IsFalse: "FALSE", query.IsUnknown: "UNKNOWN",
}

// conditions renders the filters and logic trees on resource n.
func (b *builder) conditions(n *node) ([]string, error) {
	var out []string
	for _, f := range b.req.Params.Filters {
		if !slices.Equal(f.Path, n.path) {
			continue
		}
		c, err := b.filter(n, f)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for _, l := range b.req.Params.Logic {
		if !slices.Equal(l.Path, n.path) {
			continue
		}
		c, err := b.logic(n, l.Tree)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (b *builder) logic(n *node, l query.Logic) (string, error) {
	if l.Filter != nil {
		return b.filter(n, *l.Filter)
	}
	parts := make([]string, 0, len(l.Children))
	for _, c := range l.Children {
		s, err := b.logic(n, c)
		if err != nil {
			return "", err
		}
		parts = append(parts, s)
	}
	sep := " AND "
	if l.Or {
		sep = " OR "
	}
	s := "(" + strings.Join(parts, sep) + ")"
	if l.Negate {
		s = "NOT " + s
	}
	return s, nil
}

// filter renders one condition on a column of n (or, for rel=is.null, on
// an embedded resource's presence).
func (b *builder) filter(n *node, f query.Filter) (string, error) {
	var expr string
	for _, k := range n.kids {
		if len(f.Field.Path) == 0 && k.key() == f.Field.Name && f.Op.Op == query.OpIs &&
			(f.Op.Value == query.IsNull || f.Op.Value == query.IsNotNull) {
			expr = k.lat + ".pgrst_body"
			if k.item.Spread {
				return "", apierr.New(http.StatusBadRequest, "PGRST100", "cannot filter on the spread resource '%s'", k.key())
			}
		}
	}
	if expr == "" {
		expr = b.colExpr(n.qual, f.Field)
	}
	c, err := b.operation(n, f.Field, expr, f.Op)
	if err != nil {
		return "", err
	}
	if f.Negate {
		return "NOT " + c, nil
	}
	return c, nil
}

func (b *builder) operation(n *node, fld query.Field, expr string, op query.Operation) (string, error) {
	switch op.Op {
	case query.OpIs:
		return "(" + expr + " IS " + isValues[op.Value] + ")", nil
	case query.OpIn:
		return "(" + expr + " = ANY(" + b.param(arrayLiteral(op.List)) + "))", nil
	case query.OpFts, query.OpPlFts, query.OpPhFts, query.OpWFts:
		target := expr
		if !b.isTSVector(n, fld) {
			if op.Lang != "" {
				target = "to_tsvector(" + b.param(op.Lang) + "::regconfig, " + expr + ")"
			} else {
				target = "to_tsvector(" + expr + ")"
			}
		}
		var q string
		if op.Lang != "" {
			q = ftsFuncs[op.Op] + "(" + b.param(op.Lang) + "::regconfig, " + b.param(op.Value) + ")"
		} else {
			q = ftsFuncs[op.Op] + "(" + b.param(op.Value) + ")"
		}
		return "(" + target + " @@ " + q + ")", nil
	}
	sqlOp, ok := sqlOps[op.Op]
	if !ok {
		return "", apierr.New(http.StatusBadRequest, "PGRST100", "unknown operator %s", op.Op)
	}
	like := op.Op == query.OpLike || op.Op == query.OpILike
	if op.Quant != "" {
		vals := op.List
		if like {
			vals = make([]string, len(op.List))
			for i, v := range op.List {
				vals[i] = strings.ReplaceAll(v, "*", "%")
			}
		}
		return "(" + expr + " " + sqlOp + " " + strings.ToUpper(op.Quant) + "(" + b.param(arrayLiteral(vals)) + "))", nil
	}
	v := op.Value
	if like {
		v = strings.ReplaceAll(v, "*", "%")
	}
	return "(" + expr + " " + sqlOp + " " + b.param(v) + ")", nil
}

// isTSVector reports whether a filtered column is a tsvector, which the
// full-text operators use as it is; other columns go through to_tsvector.
func (b *builder) isTSVector(n *node, f query.Field) bool {
	if n.table == nil || len(f.Path) > 0 {
		return false
	}
	c := n.table.Column(f.Name)
	return c == nil || c.BaseType == "tsvector"
}

// arrayLiteral renders a Postgres array of text elements, each quoted.
func arrayLiteral(vals []string) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('"')
		for _, r := range v {
			if r == '"' || r == '\\' {
				sb.WriteByte('\\')
			}
			sb.WriteRune(r)
		}
		sb.WriteByte('"')
	}
	sb.WriteByte('}')
	return sb.String()
}
