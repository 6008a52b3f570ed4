package tddui

import (
	"net/http"
	"testing"
	"time"
)

// FuzzSubmit feeds the receiver's own parsing and checks arbitrary bodies,
// without the runtime's validation in front: nothing may panic, a refused
// body stores nothing, and a stored one has a Task.
func FuzzSubmit(f *testing.F) {
	for _, fx := range sandboxFixtures {
		b, err := fixtureFiles.ReadFile(fx.file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Encounter","partOf":{}},"request":{"method":"POST","url":"Encounter"}}]}`))
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Slot","identifier":[{"value":"x"}]},"request":{"method":"POST","url":"Slot"}}]}`))
	f.Add([]byte(`{"entry":[{"resource":[]}]}`))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		st := newState()
		res, stored := st.submit(body, now, "", time.Second)
		if !stored {
			if len(st.submissions) != 0 || len(st.resources) != 0 {
				t.Fatalf("a refused body (%d) stored something", res.status)
			}
			return
		}
		if res.status != http.StatusOK || len(st.submissions) != 1 {
			t.Fatalf("stored with status %d", res.status)
		}
		for _, sub := range st.submissions {
			_ = sub.task(now.Add(time.Hour))
		}
	})
}
