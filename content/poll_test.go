package content_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dropfeed/dropfeed/content"
)

// The poll interval is honoured: a change is found by the next walk, and
// not before it.
func TestPollIntervalHonoured(t *testing.T) {
	dir := t.TempDir()
	hourly := watch(t, dir, &content.Watcher{Poll: time.Hour})
	write(t, dir, "unseen.md", md("Unseen", "x"))
	time.Sleep(1500 * time.Millisecond)
	if hourly.named("unseen.md") {
		t.Error("an hourly poll reported a change within seconds")
	}

	quick := watch(t, dir, &content.Watcher{Poll: 50 * time.Millisecond})
	write(t, dir, "seen.md", md("Seen", "x"))
	quick.wait(t, "seen.md")
}

// The poller tells a rename by the inode: both paths in one batch, and the
// article keeps its id even when it was edited in the same interval.
func TestPollRenameByInode(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "before.md", md("Before", "Original body."))
	lv := startLive(t, dir, &content.Watcher{Poll: 50 * time.Millisecond})
	old := lv.byPath()["before.md"]
	if old.ID == "" {
		t.Fatal("before.md not read")
	}
	if err := os.Rename(filepath.Join(dir, "before.md"), filepath.Join(dir, "after.md")); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "after.md"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("\nAn added paragraph.\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	lv.until(t, "the renamed, edited article", func(got map[string]content.Article) bool {
		return strings.Contains(got["after.md"].HTML, "added paragraph")
	})
	if got := lv.byPath(); got["after.md"].ID != old.ID || len(got) != 1 {
		t.Errorf("rename with an edit: id %q -> %q, %d articles", old.ID, got["after.md"].ID, len(got))
	}
}
