package content

import (
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"
	"unique"
	"unsafe"
)

// A parse cache record reads back as written, zones and all, and any
// shorter or longer bytes are an error, never a wrong entry.
func TestCacheEntryRoundTrip(t *testing.T) {
	zone := time.FixedZone("", 5*3600+30*60)
	for _, e := range []cacheEntry{
		{},
		{
			stat: fileStat{size: 5120, mod: 1_767_225_600_123_456_789, key: fileKey{dev: 2049, ino: 1 << 40}},
			hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			// The summary is in the body file, in front of the body.
			body: bodyRef{off: 1 << 33, n: 4096, sum: 310},
			parsed: Parsed{
				Title: "Ferry timetable changes", Author: "R. Osei", Language: "en-GB",
				ID: "tag:example.com,2026:ferry", Date: time.Date(2026, 3, 1, 9, 30, 0, 0, zone),
				Updated: time.Date(2026, 3, 2, 10, 0, 0, 5, time.UTC), Draft: true,
				Tags: []string{"harbour", "Night Shift"}, Warnings: []string{"decoded as Windows-1252"},
				Dropped: []Dropped{{Text: "THE HARBOUR LANTERN", Reason: "repeated in 4 files of this folder"}},
			},
			applied: []Fingerprint{1, 1 << 63},
		},
	} {
		raw := e.encode()
		got, err := decodeEntry(raw)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		// Times compare by instant and offset: the zone's name is not kept.
		if got, e := normalTimes(got), normalTimes(e); !reflect.DeepEqual(got, e) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
		}
		for n := range len(raw) {
			if _, err := decodeEntry(raw[:n]); err == nil {
				t.Errorf("%d of %d bytes decoded without error", n, len(raw))
			}
		}
		if _, err := decodeEntry(append(raw, 0)); err == nil {
			t.Error("a record with a trailing byte decoded without error")
		}
	}
}

// FuzzDecodeEntry checks that any bytes decode to an error or to an entry
// that comes back the same through encode and decode: a damaged state
// file can only make a record a miss, never a crash.
func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte{})
	f.Add(cacheEntry{}.encode())
	f.Add(cacheEntry{
		stat: fileStat{size: 10, mod: 20}, hash: "ab", body: bodyRef{off: 5, n: 7, sum: 2},
		parsed:  Parsed{Title: "T", Tags: []string{"a"}, Dropped: []Dropped{{"x", "y"}}, Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		applied: []Fingerprint{3},
	}.encode())
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := decodeEntry(raw)
		if err != nil {
			return
		}
		again, err := decodeEntry(e.encode())
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if !reflect.DeepEqual(normalTimes(again), normalTimes(e)) {
			t.Fatalf("round trip changed the entry:\n%+v\n%+v", again, e)
		}
	})
}

// normalTimes returns e with its times in fixed zones, which is what a
// record keeps of them.
func normalTimes(e cacheEntry) cacheEntry {
	for _, tm := range []*time.Time{&e.parsed.Date, &e.parsed.Updated} {
		_, off := tm.Zone()
		*tm = tm.In(time.FixedZone("", off))
	}
	return e
}

// Tags, parsed or read from the cache, share one copy of each string, so
// that grouping every article's tags reads the same few bytes.
func TestTagsShareOneCopy(t *testing.T) {
	// The runtime forgets an interned string at a collection once no
	// handle to it is held, and the next copy is then interned anew: hold
	// one, or a collection from a test running beside this one splits them.
	held := unique.Make("harbour")
	defer runtime.KeepAlive(held)
	var tags [][]string
	for _, src := range []string{
		"---\ntitle: One\ntags: [harbour, night]\n---\n\nText.\n",
		"---\ntitle: Two\ntags: [night, harbour]\n---\n\nText.\n",
	} {
		p, err := Parse("a.md", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		tags = append(tags, p.Tags)
	}
	e, err := decodeEntry(cacheEntry{parsed: Parsed{Tags: []string{"harbour"}}}.encode())
	if err != nil {
		t.Fatal(err)
	}
	tags = append(tags, e.parsed.Tags)
	first := unsafe.StringData(tags[0][0])
	for i, want := range [][]string{{"harbour", "night"}, {"night", "harbour"}, {"harbour"}} {
		if !reflect.DeepEqual(tags[i], want) {
			t.Fatalf("tags %q, want %q", tags[i], want)
		}
		at := slices.Index(tags[i], "harbour")
		if got := unsafe.StringData(tags[i][at]); got != first {
			t.Errorf("source %d: \"harbour\" is a copy of its own", i)
		}
	}
}

// Authors, languages and dropped lines read from the cache share one copy
// of each string across records; titles stay each record's own.
func TestRecordsShareRepeatedStrings(t *testing.T) {
	// Held for the reason TestTagsShareOneCopy gives.
	var held []unique.Handle[string]
	for _, s := range []string{"Ana Lima", "pt", "Support the Harbour Gazette", repeatedReason(12)} {
		held = append(held, unique.Make(s))
	}
	defer runtime.KeepAlive(held)
	var got []Parsed
	for _, title := range []string{"One", "Two"} {
		e, err := decodeEntry(cacheEntry{parsed: Parsed{
			Title: title, Author: "Ana Lima", Language: "pt",
			Dropped: []Dropped{{Text: "Support the Harbour Gazette", Reason: repeatedReason(12)}},
		}}.encode())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.parsed)
	}
	a, b := got[0], got[1]
	for _, c := range []struct {
		what string
		x, y string
	}{
		{"author", a.Author, b.Author},
		{"language", a.Language, b.Language},
		{"dropped text", a.Dropped[0].Text, b.Dropped[0].Text},
		{"dropped reason", a.Dropped[0].Reason, b.Dropped[0].Reason},
	} {
		if c.x != c.y || unsafe.StringData(c.x) != unsafe.StringData(c.y) {
			t.Errorf("%s: %q and %q are two copies", c.what, c.x, c.y)
		}
	}
	if a.Title == b.Title {
		t.Errorf("titles %q and %q", a.Title, b.Title)
	}
}
