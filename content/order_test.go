package content

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestArticleSet sets and deletes articles in random batches, as changes
// and scans do, and checks that the list always holds exactly the set's
// articles in feed order, that a list handed out never changes, and that
// ids used twice are counted.
func TestArticleSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]Article{}
	s := newArticleSet()
	var prev []*Article    // a list handed out
	var prevCopy []Article // and what it held then
	same := func(a *Article, b Article) bool { return a.Path == b.Path && a.ID == b.ID && a.Title == b.Title }
	for round := range 300 {
		// Batches of 1 to 150 operations: both the binary search and the sort.
		for range 1 + rng.IntN(150) {
			p := fmt.Sprintf("d%d/f%03d.md", rng.IntN(3), rng.IntN(300))
			if _, ok := want[p]; ok && rng.IntN(2) == 0 {
				delete(want, p)
				if _, ok := s.del(p); !ok {
					t.Fatalf("round %d: del(%s) found nothing", round, p)
				}
				continue
			}
			// Few ids, so that some are used by several articles.
			a := Article{Path: p, ID: fmt.Sprint("id", rng.IntN(400)), Title: fmt.Sprint(round),
				Published: time.Date(2026, 1, 1+rng.IntN(30), 0, 0, 0, 0, time.UTC)}
			want[p] = a
			s.set(p, &a)
		}
		if _, ok := s.del("never/there.md"); ok {
			t.Fatal("del of a path never set found an article")
		}
		got := s.list()
		wantList := slices.SortedFunc(maps.Values(want), func(a, b Article) int { return FeedOrder(&a, &b) })
		if !slices.EqualFunc(got, wantList, same) {
			t.Fatalf("round %d: list has %d articles, want %d", round, len(got), len(wantList))
		}
		if !slices.EqualFunc(prev, prevCopy, same) {
			t.Fatalf("round %d: the list handed out in the round before changed", round)
		}
		prev, prevCopy = got, nil
		for _, a := range got {
			prevCopy = append(prevCopy, *a)
		}
		uses := map[string]int{}
		for _, a := range want {
			uses[a.ID]++
		}
		dups := 0
		for _, n := range uses {
			if n > 1 {
				dups++
			}
		}
		if s.dups != dups || !maps.Equal(s.idUse, uses) {
			t.Fatalf("round %d: %d ids used twice, want %d", round, s.dups, dups)
		}
	}
}
