package content

import (
	"cmp"
	"maps"
	"slices"
)

// articleSet holds a Library's articles by path and, for Articles, in path
// order. The order is brought up to date with what changed since it was
// last asked for, so that a change costs in proportion to itself and not
// a lookup of every article; and it counts the articles per id, so that
// ids used twice are looked for only when there are some.
type articleSet struct {
	byPath map[string]Article // read it directly; change it with set and del
	sorted []Article          // by Path, as of the last call of list; never changed once returned
	dirty  map[string]bool    // paths set or deleted since
	idUse  map[string]int     // articles per id
	dups   int                // ids used by more than one article
}

func newArticleSet() articleSet {
	return articleSet{byPath: map[string]Article{}, dirty: map[string]bool{}, idUse: map[string]int{}}
}

// set puts a at path p, replacing what was there.
func (s *articleSet) set(p string, a Article) {
	if old, ok := s.byPath[p]; ok {
		s.unuse(old.ID)
	}
	s.byPath[p] = a
	s.dirty[p] = true
	if s.idUse[a.ID]++; s.idUse[a.ID] == 2 {
		s.dups++
	}
}

// del removes the article at p, if any, and returns it.
func (s *articleSet) del(p string) (Article, bool) {
	old, ok := s.byPath[p]
	if ok {
		delete(s.byPath, p)
		s.dirty[p] = true
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

// list returns the articles sorted by path. The slice is shared by every
// caller until the next change, which makes a new one: no one may change it.
func (s *articleSet) list() []Article {
	if len(s.dirty) == 0 {
		return s.sorted
	}
	if len(s.dirty) > rebuildOver {
		s.sorted = slices.AppendSeq(make([]Article, 0, len(s.byPath)), maps.Values(s.byPath))
		slices.SortFunc(s.sorted, byPath)
		clear(s.dirty)
		return s.sorted
	}
	s.sorted = slices.Grow(slices.Clone(s.sorted), len(s.dirty))
	for p := range s.dirty {
		i, found := slices.BinarySearchFunc(s.sorted, p, func(a Article, p string) int { return cmp.Compare(a.Path, p) })
		a, ok := s.byPath[p]
		switch {
		case found && ok:
			s.sorted[i] = a
		case found:
			s.sorted = slices.Delete(s.sorted, i, i+1)
		case ok:
			s.sorted = slices.Insert(s.sorted, i, a)
		}
	}
	clear(s.dirty)
	return s.sorted
}

func byPath(a, b Article) int { return cmp.Compare(a.Path, b.Path) }
