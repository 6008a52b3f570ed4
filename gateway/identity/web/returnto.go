package web

import (
	"net/url"
	"strings"
)

// LocalPath reports whether raw is a safe local return address: an absolute
// path on this host, with no scheme, no host, no "//" or backslash trick a
// browser would read as another host, and no control character. It returns
// the cleaned path with its query, or false.
func LocalPath(raw string) (string, bool) {
	if raw == "" || len(raw) > 2048 || raw[0] != '/' {
		return "", false
	}
	if strings.HasPrefix(raw, "//") || strings.ContainsAny(raw, "\\\x00\r\n\t") {
		return "", false
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "", false
	}
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out, true
}
