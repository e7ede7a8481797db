package platform

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

// NewProjectID returns an id like cold-bonus-61650555.
func NewProjectID() string { return words() + "-" + randString(digits, 8) }

// NewBranchID returns an id like br-raspy-sound-a54diuwm.
func NewBranchID() string { return "br-" + words() + "-" + randString(lowerAlnum, 8) }

// NewEndpointID returns an id like ep-delicate-glitter-a53ow19g.
func NewEndpointID() string { return "ep-" + words() + "-" + randString(lowerAlnum, 8) }

// NewOrgID returns an id like org-royal-sun-91776391.
func NewOrgID() string { return "org-" + words() + "-" + randString(digits, 8) }

// NewPassword returns a role password in Neon's shape: npg_ and 12 alphanumerics.
func NewPassword() string { return "npg_" + randString(mixedAlnum, 12) }

// NewAPIKey returns an API key secret in Neon's shape: napi_ and 64 lowercase alphanumerics.
func NewAPIKey() string { return "napi_" + randString(lowerAlnum, 64) }

var (
	projectIDRe  = regexp.MustCompile(`^[a-z]+-[a-z]+-[0-9]{6,8}$`)
	endpointIDRe = regexp.MustCompile(`^ep-[a-z]+-[a-z]+-[a-z0-9]{6,8}$`)
	// ResourceIDRe is the spec's pattern for ids in paths.
	ResourceIDRe = regexp.MustCompile(`^[a-z0-9-]{1,60}$`)
)

// ValidEndpointID reports whether id has the shape of an endpoint id.
func ValidEndpointID(id string) bool { return endpointIDRe.MatchString(id) }

// ValidProjectID reports whether id has the shape of a project id.
func ValidProjectID(id string) bool { return projectIDRe.MatchString(id) }
