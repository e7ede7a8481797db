// Package ids makes the ids and secrets Grove hands out, in the shapes
// Neon's clients parse, and checks the shape of ids given back.
package ids

import (
	"crypto/rand"
	"math/big"
	"regexp"
)

// Neon's id shapes, which clients such as neonctl parse: project
// adjective-noun-12345678, br-/ep-/snap- adjective-noun-8 lowercase
// alphanumerics, org- adjective-noun-8 digits.
var adjectives = []string{
	"aged", "ancient", "autumn", "billowing", "bitter", "black", "blue", "bold", "broad", "broken",
	"calm", "cold", "cool", "crimson", "curly", "damp", "dark", "dawn", "delicate", "divine",
	"dry", "empty", "falling", "fancy", "flat", "floral", "fragrant", "frosty", "gentle", "green",
	"hidden", "holy", "icy", "jolly", "late", "lingering", "little", "lively", "long", "lucky",
	"misty", "morning", "muddy", "mute", "nameless", "noisy", "odd", "old", "orange", "patient",
	"plain", "polished", "proud", "purple", "quiet", "rapid", "raspy", "red", "restless", "rough",
	"round", "royal", "shiny", "shrill", "shy", "silent", "small", "snowy", "soft", "solitary",
	"sparkling", "spring", "square", "steep", "still", "summer", "super", "sweet", "throbbing", "tight",
	"tiny", "twilight", "wandering", "weathered", "white", "wild", "winter", "wispy", "withered", "young",
}

var nouns = []string{
	"art", "band", "bar", "base", "bird", "block", "boat", "bonus", "bread", "breeze",
	"brook", "bush", "butterfly", "cake", "cell", "cherry", "cloud", "credit", "darkness", "dawn",
	"dew", "disk", "dream", "dust", "feather", "field", "fire", "firefly", "flower", "fog",
	"forest", "frog", "frost", "glade", "glitter", "grass", "hall", "hat", "haze", "heart",
	"hill", "king", "lab", "lake", "leaf", "limit", "math", "meadow", "mode", "moon",
	"morning", "mountain", "mouse", "mud", "night", "paper", "pine", "poetry", "pond", "queen",
	"rain", "recipe", "resonance", "rice", "river", "salad", "scene", "sea", "shadow", "shape",
	"silence", "sky", "smoke", "snow", "snowflake", "sound", "star", "sun", "sunset", "surf",
	"term", "thunder", "tooth", "tree", "truth", "union", "unit", "violet", "voice", "water",
	"waterfall", "wave", "wildflower", "wind", "wood",
}

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	digits     = "0123456789"
	mixedAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return int(v.Int64())
}

// LowerAlnum returns n random lowercase letters and digits.
func LowerAlnum(n int) string { return randString(lowerAlnum, n) }

func randString(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[randInt(len(alphabet))]
	}
	return string(b)
}

func words() string {
	return adjectives[randInt(len(adjectives))] + "-" + nouns[randInt(len(nouns))]
}

// NewProject returns a project id like cold-bonus-61650555.
func NewProject() string { return words() + "-" + randString(digits, 8) }

// NewBranch returns a branch id like br-raspy-sound-a54diuwm.
func NewBranch() string { return "br-" + words() + "-" + randString(lowerAlnum, 8) }

// NewEndpoint returns an endpoint id like ep-delicate-glitter-a53ow19g.
func NewEndpoint() string { return "ep-" + words() + "-" + randString(lowerAlnum, 8) }

// NewOrg returns an org id like org-royal-sun-91776391.
func NewOrg() string { return "org-" + words() + "-" + randString(digits, 8) }

// NewSnapshot returns a snapshot id like snap-misty-lake-x1y2z3w4.
func NewSnapshot() string { return "snap-" + words() + "-" + randString(lowerAlnum, 8) }

// NewVolume returns a storage volume id: volumes are Grove's own, so they
// need no words.
func NewVolume() string { return "vol-" + randString(lowerAlnum, 16) }

// NewPassword returns a role password in Neon's shape: npg_ and 12 alphanumerics.
func NewPassword() string { return "npg_" + randString(mixedAlnum, 12) }

// NewAPIKey returns an API key secret in Neon's shape: napi_ and 64 lowercase alphanumerics.
func NewAPIKey() string { return "napi_" + randString(lowerAlnum, 64) }

var (
	projectRe  = regexp.MustCompile(`^[a-z]+-[a-z]+-[0-9]{6,8}$`)
	endpointRe = regexp.MustCompile(`^ep-[a-z]+-[a-z]+-[a-z0-9]{6,8}$`)
	// resourceRe is the spec's pattern for ids in paths.
	resourceRe = regexp.MustCompile(`^[a-z0-9-]{1,60}$`)
)

// ValidEndpoint reports whether id has the shape of an endpoint id.
func ValidEndpoint(id string) bool { return endpointRe.MatchString(id) }

// ValidProject reports whether id has the shape of a project id.
func ValidProject(id string) bool { return projectRe.MatchString(id) }

// ValidResource reports whether id matches the spec's pattern for ids in
// paths; an id that does not can name nothing.
func ValidResource(id string) bool { return resourceRe.MatchString(id) }
