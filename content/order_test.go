package content

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPathOrder adds and removes paths in random batches, as changes and
// scans do, and checks that the order always holds exactly the articles'
// paths, sorted.
func TestPathOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	articles := map[string]Article{}
	var o pathOrder
	for round := range 200 {
		// Batches of 1 to 200 operations: both the insert and the sort paths.
		for range 1 + rng.IntN(200) {
			p := fmt.Sprintf("d%d/f%03d.md", rng.IntN(3), rng.IntN(300))
			if _, ok := articles[p]; ok && rng.IntN(2) == 0 {
				delete(articles, p)
				o.removed = true
				continue
			}
			if _, ok := articles[p]; !ok {
				o.added = append(o.added, p)
			}
			articles[p] = Article{Path: p}
		}
		got := o.sorted(articles)
		if want := slices.Sorted(maps.Keys(articles)); !slices.Equal(got, want) {
			t.Fatalf("round %d: order %d paths, want %d: %q", round, len(got), len(want), got)
		}
	}
}
