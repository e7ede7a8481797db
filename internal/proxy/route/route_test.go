package route

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden outputs in testdata")

// Golden files hold cases separated by "====" lines. A case is input lines
// (sni:, domain:, password:, param: key=value), a "----" line and the
// expected output, which -update rewrites.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cases := strings.Split(string(raw), "\n====\n")
			var out []string
			for i, c := range cases {
				input, want, ok := strings.Cut(c+"\n", "----\n")
				if !ok {
					t.Fatalf("case %d: missing ----", i)
				}
				got := render(Route(parseInput(t, input)))
				if *update {
					out = append(out, input+"----\n"+strings.TrimSuffix(got, "\n"))
					continue
				}
				if got != strings.TrimRight(want, "\n")+"\n" {
					t.Errorf("case %d:\n%s\ngot:\n%s\nwant:\n%s", i, input, got, want)
				}
			}
			if *update {
				if err := os.WriteFile(file, []byte(strings.Join(out, "\n====\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func parseInput(t *testing.T, s string) Input {
	t.Helper()
	in := Input{Params: map[string]string{}}
	for _, line := range strings.Split(s, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, ": ")
		if !ok {
			key, val = strings.TrimSuffix(line, ":"), ""
		}
		switch key {
		case "sni":
			in.ServerName = val
		case "domain":
			in.Domain = val
		case "password":
			in.Password, in.HavePassword = val, true
		case "param":
			k, v, _ := strings.Cut(val, "=")
			in.Params[k] = v
		default:
			t.Fatalf("unknown input line %q", line)
		}
	}
	return in
}

func render(r Result, err error) string {
	if err != nil {
		var re *Error
		if !errors.As(err, &re) {
			return "error: unexpected type: " + err.Error() + "\n"
		}
		return fmt.Sprintf("error %s: %s\n", kindName[re.Kind], re.Msg)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "endpoint: %s\npooler: %v\npassword_hack: %v\npassword: %s\n", r.EndpointID, r.Pooler, r.PasswordHack, r.Password)
	keys := make([]string, 0, len(r.Params))
	for k := range r.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "param: %s=%s\n", k, r.Params[k])
	}
	return b.String()
}

var kindName = map[Kind]string{
	MissingUser: "missing_user", MissingEndpoint: "missing_endpoint", InconsistentEndpoint: "inconsistent",
	UnknownDomain: "unknown_domain", MalformedEndpoint: "malformed",
}

func TestErrorsIs(t *testing.T) {
	_, err := Route(Input{Params: map[string]string{"user": "u"}})
	if !errors.Is(err, ErrMissingEndpoint) || errors.Is(err, ErrMalformedEndpoint) {
		t.Fatalf("errors.Is mismatch for %v", err)
	}
}

func TestSplitJoinOptions(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  -c   geqo=off ", []string{"-c", "geqo=off"}},
		{`-c search_path=a\ b endpoint=x`, []string{"-c", "search_path=a b", "endpoint=x"}},
		{`a\\b`, []string{`a\b`}},
		{"x\\", []string{"x\\"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := SplitOptions(tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("SplitOptions(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := SplitOptions(JoinOptions(got)); !reflect.DeepEqual(again, got) && len(got) > 0 {
				t.Fatalf("round trip %q -> %q", got, again)
			}
		})
	}
}

func FuzzRoute(f *testing.F) {
	f.Add("ep-a.localhost", "example.com", "endpoint=x;pw", "endpoint=ep-b -c geqo=off")
	f.Add("", "", "", `-c a=b\ c project=p`)
	f.Fuzz(func(t *testing.T, sni, domain, password, options string) {
		r, err := Route(Input{ServerName: sni, Domain: domain, Password: password, HavePassword: password != "",
			Params: map[string]string{"user": "u", "options": options}})
		if err != nil {
			var re *Error
			if !errors.As(err, &re) || re.Msg == "" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !validEndpoint(r.EndpointID) {
			t.Fatalf("invalid endpoint %q accepted", r.EndpointID)
		}
		for _, w := range SplitOptions(r.Params["options"]) {
			if _, ok := parseEndpointParam(w); ok {
				t.Fatalf("routing option %q left in %q", w, r.Params["options"])
			}
		}
	})
}
