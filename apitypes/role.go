package apitypes

// Role is a Postgres role of a branch (spec: Role). Password is only sent by
// project create, role create and reset_password.
type Role struct {
	BranchID             string `json:"branch_id"`
	Name                 string `json:"name"`
	Password             string `json:"password,omitempty"`
	Protected            *bool  `json:"protected,omitempty"`
	AuthenticationMethod string `json:"authentication_method,omitempty"` // password, oauth or no_login
	CreatedAt            Time   `json:"created_at"`
	UpdatedAt            Time   `json:"updated_at"`
}

// RoleCreateRequest is the body of POST …/branches/{branch_id}/roles (spec:
// RoleCreateRequest).
type RoleCreateRequest struct {
	Role RoleCreate `json:"role"`
}

// RoleCreate is the role object of a [RoleCreateRequest]. Name is required
// and at most 63 bytes.
type RoleCreate struct {
	Name    string `json:"name"`
	NoLogin *bool  `json:"no_login,omitempty"`
}

// RoleResponse wraps one role (spec: RoleResponse).
type RoleResponse struct {
	Role Role `json:"role"`
}

// RolesResponse is a list of roles (spec: RolesResponse).
type RolesResponse struct {
	Roles List[Role] `json:"roles"`
}

// RoleOperations is the response of role mutations (spec: RoleOperations).
type RoleOperations struct {
	Role       Role            `json:"role"`
	Operations List[Operation] `json:"operations"`
}

// RolePasswordResponse is the response of reveal_password (spec:
// RolePasswordResponse).
type RolePasswordResponse struct {
	Password string `json:"password"`
}

// Database is a database of a branch (spec: Database).
type Database struct {
	ID        int64  `json:"id"`
	BranchID  string `json:"branch_id"`
	Name      string `json:"name"`
	OwnerName string `json:"owner_name"`
	CreatedAt Time   `json:"created_at"`
	UpdatedAt Time   `json:"updated_at"`
}

// DatabaseCreateRequest is the body of POST …/branches/{branch_id}/databases
// (spec: DatabaseCreateRequest).
type DatabaseCreateRequest struct {
	Database DatabaseCreate `json:"database"`
}

// DatabaseCreate is the database object of a [DatabaseCreateRequest]; both
// fields are required.
type DatabaseCreate struct {
	Name      string `json:"name"`
	OwnerName string `json:"owner_name"`
}

// DatabaseUpdateRequest is the body of PATCH
// …/databases/{database_name} (spec: DatabaseUpdateRequest).
type DatabaseUpdateRequest struct {
	Database DatabaseUpdate `json:"database"`
}

// DatabaseUpdate is the database object of a [DatabaseUpdateRequest]. Absent
// fields are left unchanged.
type DatabaseUpdate struct {
	Name      string `json:"name,omitempty"`
	OwnerName string `json:"owner_name,omitempty"`
}

// DatabaseResponse wraps one database (spec: DatabaseResponse).
type DatabaseResponse struct {
	Database Database `json:"database"`
}

// DatabasesResponse is a list of databases (spec: DatabasesResponse).
type DatabasesResponse struct {
	Databases List[Database] `json:"databases"`
}

// DatabaseOperations is the response of database mutations (spec:
// DatabaseOperations).
type DatabaseOperations struct {
	Database   Database        `json:"database"`
	Operations List[Operation] `json:"operations"`
}
