package store_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
)

func TestStoreRoundTripAndFeedID(t *testing.T) {
	state := filepath.Join(t.TempDir(), "nested", "state.db")
	st, err := store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	put := map[string]content.Identity{
		"a.md":     {ID: "urn:uuid:1", Slug: "a", FirstSeen: when, Hash: "h1"},
		"sub/b.md": {ID: "urn:uuid:2", Slug: "sub/b", FirstSeen: when, Hash: "h2", Deleted: when},
	}
	if err := st.SaveIdentities(put, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveIdentities(nil, []string{"sub/b.md"}); err != nil {
		t.Fatal(err)
	}
	feedID, err := st.FeedID()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(feedID, "urn:uuid:") {
		t.Errorf("feed id %q", feedID)
	}
	// A second process (or handle) must get a clear error, not hang.
	if _, err := store.Open(state); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second open: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.LoadIdentities()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["a.md"].ID != "urn:uuid:1" || !got["a.md"].FirstSeen.Equal(when) {
		t.Errorf("loaded %+v", got)
	}
	if again, _ := st.FeedID(); again != feedID {
		t.Errorf("feed id changed across reopen: %q -> %q", feedID, again)
	}
}
