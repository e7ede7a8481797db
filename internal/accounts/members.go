package accounts

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/grovedb/grove/internal/errkind"
	"github.com/grovedb/grove/internal/metastore"
)

// MembersInput selects a page of an org's members. SortBy is email, role or
// joined_at (the default); SortOrder asc or desc (the default); Cursor is
// the Next of the previous page.
type MembersInput struct {
	SortBy, SortOrder, Cursor string
	Limit                     int
}

// MembersPage is a page of members; Next is empty on the last page.
type MembersPage struct {
	Members           []metastore.MemberWithUser
	Next              string
	SortBy, SortOrder string
}

type memberCursor struct {
	MemberID  string `json:"member_id"`
	SortBy    string `json:"sort_by"`
	SortOrder string `json:"sort_order"`
}

// OrgMembers returns a page of an org's members. Orgs have few members, so
// the page is cut from the sorted list after the cursor's member.
func (a *Accounts) OrgMembers(ctx context.Context, pr Principal, orgID string, in MembersInput) (MembersPage, error) {
	if _, err := a.GetOrg(ctx, pr, orgID); err != nil {
		return MembersPage{}, err
	}
	in.SortBy = cmp.Or(in.SortBy, "joined_at")
	in.SortOrder = strings.ToLower(cmp.Or(in.SortOrder, "desc"))
	if in.Limit == 0 {
		in.Limit = 100
	}
	switch {
	case in.SortBy != "email" && in.SortBy != "role" && in.SortBy != "joined_at":
		return MembersPage{}, errkind.New(errkind.Invalid, "sort_by must be one of email, role, joined_at")
	case in.SortOrder != "asc" && in.SortOrder != "desc":
		return MembersPage{}, errkind.New(errkind.Invalid, "sort_order must be asc or desc")
	case in.Limit < 1 || in.Limit > 500:
		return MembersPage{}, errkind.New(errkind.Invalid, "limit must be between 1 and 500")
	}
	all, err := a.store.OrgMembers(ctx, orgID)
	if err != nil {
		return MembersPage{}, fromStore("organization members", err)
	}
	slices.SortStableFunc(all, func(a, b metastore.MemberWithUser) int {
		var c int
		switch in.SortBy {
		case "email":
			c = strings.Compare(a.Email, b.Email)
		case "role":
			c = strings.Compare(a.Role, b.Role)
		default:
			c = a.JoinedAt.Compare(b.JoinedAt)
		}
		c = cmp.Or(c, strings.Compare(a.ID.String(), b.ID.String()))
		if in.SortOrder == "desc" {
			c = -c
		}
		return c
	})
	start := 0
	if in.Cursor != "" {
		var cur memberCursor
		raw, err := base64.URLEncoding.DecodeString(in.Cursor)
		if err == nil {
			err = json.Unmarshal(raw, &cur)
		}
		if err != nil || cur.SortBy != in.SortBy || cur.SortOrder != in.SortOrder {
			return MembersPage{}, errkind.New(errkind.Invalid, "cursor is not valid for this sort")
		}
		i := slices.IndexFunc(all, func(m metastore.MemberWithUser) bool { return m.ID.String() == cur.MemberID })
		if i < 0 {
			return MembersPage{}, errkind.New(errkind.Invalid, "cursor is not valid: its member is gone")
		}
		start = i + 1
	}
	page := MembersPage{SortBy: in.SortBy, SortOrder: in.SortOrder, Members: all[start:]}
	if len(page.Members) > in.Limit {
		page.Members = page.Members[:in.Limit]
		last := page.Members[len(page.Members)-1]
		raw, _ := json.Marshal(memberCursor{MemberID: last.ID.String(), SortBy: in.SortBy, SortOrder: in.SortOrder})
		page.Next = base64.URLEncoding.EncodeToString(raw)
	}
	return page, nil
}

// OrgMember returns one member of an org the caller reaches.
func (a *Accounts) OrgMember(ctx context.Context, pr Principal, orgID, memberID string) (metastore.MemberWithUser, error) {
	if _, err := a.GetOrg(ctx, pr, orgID); err != nil {
		return metastore.MemberWithUser{}, err
	}
	id, err := uuid.Parse(memberID)
	if err != nil {
		return metastore.MemberWithUser{}, notFound("member")
	}
	all, err := a.store.OrgMembers(ctx, orgID)
	if err != nil {
		return metastore.MemberWithUser{}, fromStore("organization members", err)
	}
	for _, m := range all {
		if m.ID == id {
			return m, nil
		}
	}
	return metastore.MemberWithUser{}, notFound("member")
}
