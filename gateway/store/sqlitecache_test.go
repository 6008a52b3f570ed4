package store

import "testing"

func TestCacheable(t *testing.T) {
	t.Parallel()
	for query, want := range map[string]bool{
		"SELECT 1":                  true,
		"SELECT 1;":                 true,
		"SELECT 1;\n  ":             true,
		"SELECT 1; SELECT 2":        false,
		"-- a; comment\nSELECT 1":   true,
		"/* a; comment */ SELECT 1": true,
		"SELECT ';' AS semi":        true,
		"SELECT 'it''s; fine'":      true,
		`SELECT "odd;name" FROM t`:  true,
		"CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);": false,
		"SELECT 1; -- trailing comment":                    true,
		"SELECT '/* not a comment; */'":                    true,
		"SELECT 1 /* unterminated":                         false,
	} {
		if got := cacheable(query); got != want {
			t.Errorf("cacheable(%q) = %v, want %v", query, got, want)
		}
	}
}
