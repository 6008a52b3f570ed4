package platform_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/relais-dev/relais/mocks/platform"
)

func TestApplyDriftRetypes(t *testing.T) {
	t.Parallel()
	body := `{"s":"12.50","t":"true","n":3,"z":0,"b":true,"f":false,"o":{"k":1},"e":{},"a":[1,2],"x":null}`
	cases := []struct{ path, to, want string }{
		{"/s", "number", `12.5`},
		{"/t", "boolean", `true`},
		{"/s", "boolean", `false`},
		{"/n", "string", `"3"`},
		{"/n", "boolean", `true`},
		{"/z", "boolean", `false`},
		{"/b", "string", `"true"`},
		{"/b", "number", `1`},
		{"/f", "number", `0`},
		{"/o", "string", `"{\"k\":1}"`},
		{"/o", "boolean", `true`},
		{"/e", "boolean", `false`},
		{"/a", "number", `2`},
		{"/a", "object", `{"value":[1,2]}`},
		{"/n", "array", `[3]`},
		{"/x", "string", `""`},
		{"/x", "number", `0`},
		{"/o", "null", `null`},
	}
	for _, tc := range cases {
		out, changed, err := platform.ApplyDrift([]byte(body), platform.Drift{Kind: "retype", Path: tc.path, To: tc.to})
		if err != nil || !changed {
			t.Errorf("%s to %s: changed %v, %v", tc.path, tc.to, changed, err)
			continue
		}
		got, _, _ := platform.ApplyDrift(out, platform.Drift{Kind: "rename", Path: tc.path, To: "result"})
		if want := `"result":` + tc.want; !contains(got, want) {
			t.Errorf("%s to %s: %s, want %s", tc.path, tc.to, out, want)
		}
	}
	// A value that already has the type is left alone.
	if out, changed, _ := platform.ApplyDrift([]byte(body), platform.Drift{Kind: "retype", Path: "/n", To: "number"}); changed || string(out) != body {
		t.Errorf("retype to the same type changed the body: %s", out)
	}
	// Renaming onto an existing member replaces it, in the renamed one's place.
	out, _, _ := platform.ApplyDrift([]byte(`{"a":1,"b":2,"c":3}`), platform.Drift{Kind: "rename", Path: "/c", To: "a"})
	if string(out) != `{"b":2,"a":3}` {
		t.Errorf("rename onto a member: %s", out)
	}
	// Escaped pointer tokens and array indexes.
	out, _, _ = platform.ApplyDrift([]byte(`{"a/b":[{"~":1},{"~":2}]}`), platform.Drift{Kind: "remove", Path: "/a~1b/1/~0"})
	if string(out) != `{"a/b":[{"~":1},{}]}` {
		t.Errorf("escaped pointer: %s", out)
	}
	for _, path := range []string{"/a~1b/01", "/a~1b/-", "/a~1b/2"} {
		if _, changed, _ := platform.ApplyDrift([]byte(`{"a/b":[1,2]}`), platform.Drift{Kind: "remove", Path: path}); changed {
			t.Errorf("%s is not an array index but changed the body", path)
		}
	}
	if _, _, err := platform.ApplyDrift(nil, platform.Drift{Kind: "retype", Path: "/a", To: "date"}); err == nil || err.Error() != `applying drift: drift[0].to: "date" is not a JSON type (string, number, boolean, object, array, null)` {
		t.Errorf("error %v", err)
	}
}

func contains(b []byte, s string) bool {
	return strings.Contains(string(b), s)
}

func TestRateLimitOfOpenOperationsIsPerClientAddress(t *testing.T) {
	t.Parallel()
	f := setup(t, func(c *platform.Config) { c.RateLimit = platform.RateLimit{Limit: 1} })
	r := f.do(t, call{method: http.MethodGet, path: peoplePath})
	expect(t, r, http.StatusOK)
	if r.header.Get("RateLimit-Reset") != "1" {
		t.Errorf("default window: RateLimit-Reset %q, want 1", r.header.Get("RateLimit-Reset"))
	}
	// A token does not matter for an open operation: the address does.
	expect(t, f.do(t, call{method: http.MethodGet, path: peoplePath, token: "other"}), http.StatusTooManyRequests)
	f.clock.Advance(time.Second)
	expect(t, f.do(t, call{method: http.MethodGet, path: peoplePath}), http.StatusOK)
}
