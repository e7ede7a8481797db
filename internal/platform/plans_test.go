package platform

import (
	"testing"

	"github.com/grovedb/grove/internal/accounts"
	"github.com/grovedb/grove/internal/errkind"
)

func TestTransferNeedsPersonalKey(t *testing.T) {
	if err := (&Platform{}).TransferProjects(t.Context(), accounts.Principal{KeyKind: "org", OrgIDs: []string{"org-a"}}, "org-a",
		TransferInput{DestinationOrgID: "org-b", ProjectIDs: []string{"proj-a"}}); errkind.Of(err) != errkind.Forbidden {
		t.Errorf("org key: %v, want 403", err)
	}
}
