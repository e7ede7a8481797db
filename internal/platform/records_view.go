package platform

import "github.com/grovedb/grove/internal/metastore"

// The platform's results carry metadata records. They are named here so that
// the API layer can convert them to wire types without importing the store:
// it reaches storage only through the platform (internal/deptest).
type (
	Project          = metastore.Project
	Branch           = metastore.Branch
	Role             = metastore.Role
	Database         = metastore.Database
	Operation        = metastore.Operation
	Snapshot         = metastore.Snapshot
	Org              = metastore.Org
	MemberWithUser   = metastore.MemberWithUser
	KeyListing       = metastore.KeyListing
	ConsumptionPoint = metastore.ConsumptionPoint
)
