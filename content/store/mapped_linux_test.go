package store_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
	"github.com/dropfeed/dropfeed/content/store"
)

// mappedRSS returns how many bytes of the file at path this process has
// mapped and resident, from /proc/self/smaps.
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			// A mapping's header: range, perms, offset, device, inode, path.
			in = len(f) == 6 && f[5] == path
			continue
		}
		if in && len(f) == 3 && f[0] == "Rss:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			total += kb << 10
		}
	}
	return total
}

// TestStoreReleasesMappedPages checks that the pages of the state file a
// load, a lookup or a write went through are not left in the process's
// resident set, while they are resident during the read itself.
func TestStoreReleasesMappedPages(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	st, err := store.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n, size = 3000, 2000
	records := make(map[string][]byte, n)
	ids := make(map[string]content.Identity, n)
	for i := range n {
		k := fmt.Sprintf("dir/article-%05d.md", i)
		records[k] = bytes.Repeat([]byte{byte(i)}, size)
		ids[k] = content.Identity{ID: fmt.Sprintf("urn:uuid:%d", i), Slug: k, FirstSeen: time.Unix(int64(i), 0)}
	}
	const left = 64 << 10 // what one page table's worth of stray reads could leave

	steps := []struct {
		name string
		do   func() error
	}{
		{"save parse cache", func() error { return st.SaveParsed(records, nil, true) }},
		{"save identities", func() error { return st.SaveIdentities(ids, nil) }},
		{"load parse cache", func() error { _, err := st.LoadParsed(); return err }},
		{"load identities", func() error { _, err := st.LoadIdentities(); return err }},
		{"load fingerprints", func() error { _, err := st.LoadFingerprints(); return err }},
		{"save every identity again", func() error { return st.SaveIdentities(ids, nil) }},
		{"save one identity", func() error {
			return st.SaveIdentities(map[string]content.Identity{"new.md": {ID: "urn:uuid:new"}}, nil)
		}},
		{"look records up", func() error {
			return st.ViewParsed(func(get func(string) []byte) error {
				for k := range records {
					if len(get(k)) != size {
						return fmt.Errorf("record %s: not found", k)
					}
				}
				// The records were read through the map: resident now.
				if got := mappedRSS(t, state); got < n*size/2 {
					t.Errorf("during a lookup of every record: %d bytes of the state file resident, want at least %d", got, n*size/2)
				}
				return nil
			})
		}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := mappedRSS(t, state); got > left {
			t.Errorf("after %s: %d bytes of the state file still resident, want at most %d", s.name, got, left)
		}
	}
}
