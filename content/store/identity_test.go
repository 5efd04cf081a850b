package store

import (
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
)

// Identities read back as written, and those of state files written as
// JSON before the binary encoding still read.
func TestIdentityEncoding(t *testing.T) {
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, id := range []content.Identity{
		{},
		{ID: "urn:uuid:1", Slug: "a", FirstSeen: when, Hash: "h1"},
		{ID: "tag:example.org,2026:é", Slug: "sub/b-2", FirstSeen: when, Hash: "9f86d0", Changed: when.Add(time.Hour), Deleted: when.Add(48 * time.Hour)},
	} {
		raw := encodeIdentity(id)
		got, err := decodeIdentity(raw)
		if err != nil || got != id {
			t.Errorf("round trip of %+v: %+v, %v", id, got, err)
		}
		for n := range len(raw) {
			if _, err := decodeIdentity(raw[:n]); err == nil {
				t.Errorf("%+v: %d of %d bytes decoded without error", id, n, len(raw))
			}
		}
	}
	old := `{"id":"urn:uuid:7","slug":"old","first_seen":"2026-01-02T03:04:05Z","hash":"h7","deleted":"2026-01-03T03:04:05Z"}`
	got, err := decodeIdentity([]byte(old))
	want := content.Identity{ID: "urn:uuid:7", Slug: "old", FirstSeen: when, Hash: "h7", Deleted: when.Add(24 * time.Hour)}
	if err != nil || !got.FirstSeen.Equal(want.FirstSeen) || !got.Deleted.Equal(want.Deleted) || got.ID != want.ID || got.Slug != want.Slug || got.Hash != want.Hash {
		t.Errorf("JSON identity: %+v, %v; want %+v", got, err, want)
	}
}
