package platform

import "github.com/grovedb/grove/internal/sealer"

// Sealer encrypts role passwords at rest (package sealer).
type Sealer = sealer.Sealer
