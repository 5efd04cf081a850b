package feed

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
)

func TestListDiff(t *testing.T) {
	a := ptrs(numbered(12))
	fresh := func(i int) *content.Article { c := *a[i]; return &c }
	x, y := fresh(3), fresh(7)
	tests := []struct {
		name        string
		last, next  []*content.Article
		added, gone []*content.Article
	}{
		{"same", a, a, nil, nil},
		{"both empty", nil, nil, nil, nil},
		{"from nothing", nil, a[:3], a[:3], nil},
		{"to nothing", a[:3], nil, nil, a[:3]},
		{"one added", a[1:], a, a[:1], nil},
		{"one added inside", slices.Delete(slices.Clone(a), 5, 6), a, a[5:6], nil},
		{"one gone", a, slices.Delete(slices.Clone(a), 5, 6), nil, a[5:6]},
		{"last gone", a, a[:11], nil, a[11:]},
		{"replaced", a, slices.Concat(a[:3], []*content.Article{x}, a[4:7], []*content.Article{y}, a[8:]), []*content.Article{x, y}, []*content.Article{a[3], a[7]}},
		// Paired where it went: the articles it passed are gone and added.
		{"moved up", a, slices.Concat(a[:2], a[6:7], a[2:6], a[7:]), a[2:6], a[2:6]},
		{"swapped", a, slices.Concat(a[:4], a[5:6], a[4:5], a[6:]), a[4:5], a[4:5]},
		{
			"more gone than the walk looks past", a, slices.Concat(a[:2], a[2+walkAhead+1:]),
			a[2+walkAhead+1:], a[2:],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, gone := listDiff(tt.last, tt.next)
			if !slices.Equal(added, tt.added) || !slices.Equal(gone, tt.gone) {
				t.Errorf("added %v gone %v; want %v %v", paths(added), paths(gone), paths(tt.added), paths(tt.gone))
			}
		})
	}
}

func paths(as []*content.Article) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%s@%p", a.Path, a))
	}
	return out
}

// changeList returns last changed as a Library's change might change it,
// or as a caller that is not a Library might: articles added (in order or
// anywhere), gone, replaced by another version with new tags, moved to
// another date, swapped. Every article has its own path.
func changeList(rng *rand.Rand, last []*content.Article, t0 time.Time, serial *int, ordered bool) []*content.Article {
	next := slices.Clone(last)
	tags := []string{"Go", "go", "GO!", "rust", "Rust", "web dev", "???", "été"}
	newArticle := func() *content.Article {
		*serial++
		a := &content.Article{
			ID:        fmt.Sprintf("id-%02d", rng.IntN(30)), // ties: the same second and id
			Path:      fmt.Sprintf("p%04d.md", *serial),
			Slug:      fmt.Sprintf("p%04d", *serial),
			Title:     fmt.Sprintf("Article %d", *serial),
			Published: t0.Add(time.Duration(rng.IntN(40)) * time.Hour),
			Draft:     rng.IntN(15) == 0,
		}
		a.Updated = a.Published
		for range rng.IntN(4) {
			a.Tags = append(a.Tags, tags[rng.IntN(len(tags))])
		}
		return a
	}
	ops := 1 + rng.IntN(3)
	if rng.IntN(10) == 0 {
		ops = 300 // a scan's worth: more than regroupTags takes
	}
	for range ops {
		switch op := rng.IntN(6); {
		case op <= 1 || len(next) == 0:
			a := newArticle()
			i, _ := slices.BinarySearchFunc(next, a, content.FeedOrder)
			if !ordered && rng.IntN(3) == 0 {
				i = rng.IntN(len(next) + 1)
			}
			next = slices.Insert(next, i, a)
		case op == 2:
			i := rng.IntN(len(next))
			next = slices.Delete(next, i, i+1)
		case op == 3:
			// An edit: the same path, id and date, another body and tags.
			i := rng.IntN(len(next))
			c := *next[i]
			c.Tags = newArticle().Tags
			next[i] = &c
		case op == 4:
			// Another date: out of place unless put back in order.
			i := rng.IntN(len(next))
			c := *next[i]
			c.Published = t0.Add(time.Duration(rng.IntN(40)) * time.Hour)
			next = slices.Delete(next, i, i+1)
			j, _ := slices.BinarySearchFunc(next, &c, content.FeedOrder)
			if !ordered {
				j = i
			}
			next = slices.Insert(next, j, &c)
		default:
			if !ordered && len(next) > 1 {
				i := rng.IntN(len(next) - 1)
				next[i], next[i+1] = next[i+1], next[i]
			}
		}
	}
	return next
}

// TestPublishableAgainstLast checks that publishable given the last list
// answers as it does without it, however the list changed since.
func TestPublishableAgainstLast(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	now := t0.Add(30 * time.Hour)
	serial := 0
	var last []*content.Article
	outOfOrder := 0
	for round := range 3000 {
		next := changeList(rng, last, t0, &serial, round%3 != 0)
		got, gotDue, gotNewest, gotOrdered := publishable(next, last, now)
		want, wantDue, wantNewest, wantOrdered := publishable(next, nil, now)
		if newest := newestUpdated(want); !gotNewest.Equal(newest) || !wantNewest.Equal(newest) {
			t.Fatalf("round %d: newest Updated %v with the last list, %v without; of the published, %v", round, gotNewest, wantNewest, newest)
		}
		if inOrder := slices.IsSortedFunc(next, content.FeedOrder); wantOrdered != inOrder {
			t.Fatalf("round %d: in order %v, but publishable says %v", round, inOrder, wantOrdered)
		}
		if gotOrdered != wantOrdered || !gotDue.Equal(wantDue) || !slices.Equal(got, want) {
			t.Fatalf("round %d: with the last list: in order %v, due %v, %d published; without: %v, %v, %d",
				round, gotOrdered, gotDue, len(got), wantOrdered, wantDue, len(want))
		}
		if !wantOrdered {
			outOfOrder++
			next = slices.SortedFunc(slices.Values(next), content.FeedOrder)
		}
		last = next
		if len(last) > 400 {
			last = last[:200]
		}
	}
	if outOfOrder < 300 {
		t.Fatalf("only %d rounds of 3000 were out of order", outOfOrder)
	}
}

// TestRegroupTags checks regroupTags against groupTags over changes of
// every kind, and that it takes the small ones.
func TestRegroupTags(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 11))
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	now := t0.Add(30 * time.Hour)
	serial := 0
	const limit = 4
	var last []*content.Article
	var lastGroups []tagGroup
	var lastNames map[string]tagName
	taken := 0
	const rounds = 3000
	for round := range rounds {
		next, _, _, _ := publishable(changeList(rng, last, t0, &serial, true), nil, now)
		want, _ := groupTags(next, limit, nil)
		before := cloneGroups(lastGroups)
		got, names, ok := regroupTags(lastGroups, last, next, limit, lastNames)
		if !equalGroups(lastGroups, before) {
			t.Fatalf("round %d: regroupTags changed the last groups", round)
		}
		if ok {
			taken++
			if !equalGroups(got, want) {
				t.Fatalf("round %d: regrouped\n%v\nwant\n%v", round, describe(got), describe(want))
			}
			for _, a := range next {
				for _, tag := range a.Tags {
					if _, ok := names[tag]; !ok {
						t.Fatalf("round %d: no name for %q", round, tag)
					}
				}
			}
		} else {
			got, names = groupTags(next, limit, lastNames)
		}
		last, lastGroups, lastNames = next, got, names
		if len(last) > 400 {
			last = last[:200]
			lastGroups, lastNames = groupTags(last, limit, nil)
		}
	}
	if taken < rounds/2 {
		t.Fatalf("regroupTags took %d changes of %d", taken, rounds)
	}
}

// TestUpdatesMatchAFreshHandler checks, through a server, that a Handler
// that checked and grouped only what changed from Update to Update serves
// the tag feeds and the index a Handler given the same articles at once
// serves.
func TestUpdatesMatchAFreshHandler(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	opts := Options{Limit: 3, TombstoneTTL: -1, Now: func() time.Time { return t0.Add(30 * time.Hour) }}
	h := NewHandler(testSite(t), opts)
	t.Cleanup(func() { h.Close() })
	srv, client := newServer(t, h)
	docs := []string{"/"}
	for _, slug := range []string{"go", "rust", "web-dev", "été"} {
		for _, ext := range feedExts {
			docs = append(docs, "/tags/"+slug+"."+ext)
		}
	}
	serial, compared := 0, 0
	var list []*content.Article
	for round := range 60 {
		list = changeList(rng, list, t0, &serial, round%5 != 4)
		if err := h.Update(list); err != nil {
			t.Fatalf("round %d: Update: %v", round, err)
		}
		if !slices.IsSortedFunc(list, content.FeedOrder) {
			list = slices.SortedFunc(slices.Values(list), content.FeedOrder)
		}
		if round%6 != 5 {
			continue
		}
		fresh := NewHandler(testSite(t), opts)
		if err := fresh.Update(list); err != nil {
			t.Fatalf("round %d: fresh Update: %v", round, err)
		}
		freshSrv, freshClient := newServer(t, fresh)
		for _, d := range docs {
			resp, body := do(t, client, "GET", srv.URL+d, nil)
			want, wantBody := do(t, freshClient, "GET", freshSrv.URL+d, nil)
			if resp.StatusCode != want.StatusCode || !bytes.Equal(body, wantBody) {
				t.Fatalf("round %d: %s: status %d, %d bytes; a fresh Handler: %d, %d bytes\n%s\nwant\n%s",
					round, d, resp.StatusCode, len(body), want.StatusCode, len(wantBody), body, wantBody)
			}
			if resp.StatusCode == http.StatusOK {
				compared++
			}
		}
		freshSrv.Close()
		fresh.Close()
	}
	if compared < 50 {
		t.Fatalf("only %d documents compared", compared)
	}
}

func cloneGroups(gs []tagGroup) []tagGroup {
	out := slices.Clone(gs)
	for i := range out {
		out[i].articles = slices.Clone(out[i].articles)
	}
	return out
}

func equalGroups(a, b []tagGroup) bool {
	return slices.EqualFunc(a, b, func(x, y tagGroup) bool {
		return x.slug == y.slug && x.name == y.name && x.count == y.count && slices.Equal(x.articles, y.articles)
	})
}

func describe(gs []tagGroup) string {
	var s string
	for _, g := range gs {
		s += fmt.Sprintf("%s %q %d %v\n", g.slug, g.name, g.count, paths(g.articles))
	}
	return s
}
