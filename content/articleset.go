package content

import (
	"cmp"
	"maps"
	"slices"
	"sort"
)

// articleSet holds a Library's articles by path and, for Articles, in the
// order feeds list them (see FeedOrder). The order is brought up to date
// with what changed since it was last asked for, so that a change costs in
// proportion to itself and not a lookup of every article; and it counts
// the articles per id, so that ids used twice are looked for only when
// there are some.
type articleSet struct {
	byPath map[string]*Article // read it directly; change it with set and del
	sorted []*Article          // in FeedOrder as of the last call of list; never changed once returned
	dirty  map[string]*Article // by path changed since: the article sorted holds for it, or nil
	// Over rebuildOver changes list sorts everything anew, so which
	// changed is no longer recorded: a first scan would copy every
	// article into dirty.
	overflow bool
	idUse    map[string]int // articles per id
	dups     int            // ids used by more than one article
}

func newArticleSet() articleSet {
	return articleSet{byPath: map[string]*Article{}, dirty: map[string]*Article{}, idUse: map[string]int{}}
}

// FeedOrder orders articles as feeds list them: newest Published first,
// then by ID, then by Path. It returns a negative number when a comes first.
// It takes pointers: an Article is some 300 bytes to copy.
func FeedOrder(a, b *Article) int {
	if c := b.Published.Compare(a.Published); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return cmp.Compare(a.Path, b.Path)
}

// touch records p as changed, remembering what sorted holds for it.
func (s *articleSet) touch(p string) {
	if s.overflow {
		return
	}
	if _, ok := s.dirty[p]; !ok {
		s.dirty[p] = s.byPath[p]
		if len(s.dirty) > rebuildOver {
			s.overflow = true
			clear(s.dirty)
		}
	}
}

// reserve makes room for n articles in an empty set, so that a first
// scan does not grow the map over and over.
func (s *articleSet) reserve(n int) {
	if len(s.byPath) == 0 {
		s.byPath = make(map[string]*Article, n)
		s.idUse = make(map[string]int, n)
	}
}

// set puts a at path p, replacing what was there. a is never changed
// afterwards: lists handed out share it.
func (s *articleSet) set(p string, a *Article) {
	s.touch(p)
	if old, ok := s.byPath[p]; ok {
		s.unuse(old.ID)
	}
	s.byPath[p] = a
	if s.idUse[a.ID]++; s.idUse[a.ID] == 2 {
		s.dups++
	}
}

// del removes the article at p, if any, and returns it.
func (s *articleSet) del(p string) (*Article, bool) {
	old, ok := s.byPath[p]
	if ok {
		s.touch(p)
		delete(s.byPath, p)
		s.unuse(old.ID)
	}
	return old, ok
}

func (s *articleSet) unuse(id string) {
	switch s.idUse[id]--; s.idUse[id] {
	case 0:
		delete(s.idUse, id)
	case 1:
		s.dups--
	}
}

// rebuildOver is how many changed paths make list sort every article
// rather than place each change with a binary search.
const rebuildOver = 64

// list returns the articles in FeedOrder. The slice is shared by every
// caller until the next change, which makes a new one: no one may change it.
func (s *articleSet) list() []*Article {
	if s.overflow {
		s.sorted = s.compact(sortedArticles(slices.AppendSeq(make([]*Article, 0, len(s.byPath)), maps.Values(s.byPath))))
		s.overflow = false
		return s.sorted
	}
	if len(s.dirty) == 0 {
		return s.sorted
	}
	s.sorted = s.merged()
	clear(s.dirty)
	return s.sorted
}

// compact copies the articles of sorted, a whole new list, into one block
// in that order and points the set at the copies, so that the passes over
// every article in feed order that each change makes read memory in
// order. Stored articles are never changed, so a copy is as good.
func (s *articleSet) compact(sorted []*Article) []*Article {
	block := make([]Article, len(sorted))
	for i, a := range sorted {
		block[i] = *a
		sorted[i] = &block[i]
		s.byPath[a.Path] = &block[i]
	}
	return sorted
}

// merged returns a new list: sorted without the articles of the changed
// paths it holds, and with their current articles. It copies the list
// once (a copy and an insert or delete each would copy it three times).
func (s *articleSet) merged() []*Article {
	old := s.sorted
	var removed []int // indices in old, sorted
	var added []*Article
	for p, was := range s.dirty {
		if was != nil {
			if i := search(old, was); i < len(old) && old[i] == was {
				removed = append(removed, i)
			}
		}
		if a, ok := s.byPath[p]; ok {
			added = append(added, a)
		}
	}
	slices.Sort(removed)
	added = sortedArticles(added)
	next := make([]*Article, 0, len(old)-len(removed)+len(added))
	at, r := 0, 0 // next index of old to copy, and of removed
	copyTo := func(end int) {
		for at < end {
			stop := end
			if r < len(removed) && removed[r] < end {
				stop = removed[r]
			}
			next = append(next, old[at:stop]...)
			at = stop
			if r < len(removed) && removed[r] == at {
				at++
				r++
			}
		}
	}
	for _, a := range added {
		copyTo(search(old, a))
		next = append(next, a)
	}
	copyTo(len(old))
	return next
}

// search returns where a goes in list, which is in FeedOrder: the index of
// the first article not before it.
func search(list []*Article, a *Article) int {
	return sort.Search(len(list), func(i int) bool { return FeedOrder(list[i], a) >= 0 })
}

// sortedArticles sorts articles in FeedOrder, in place, and returns them.
func sortedArticles(articles []*Article) []*Article {
	slices.SortFunc(articles, FeedOrder)
	return articles
}
