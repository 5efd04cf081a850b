package content

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// walker walks a content folder the way every part of this package must
// agree on, so that the scan, the watcher and the poller see the same files:
// hidden names are skipped; a symlinked file is read if it resolves inside
// the folder, or anywhere with follow; a symlinked folder is entered only
// with follow; and no real folder is entered twice, so no loop can hang it.
type walker struct {
	root   string // the content folder, absolute
	real   string // root with its own symlinks resolved
	follow bool
	log    *slog.Logger
	warned sync.Map // paths already logged as skipped, so a poll every second does not repeat it
}

func newWalker(root string, follow bool, log *slog.Logger) *walker {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		real = root
	}
	return &walker{root: root, real: real, follow: follow, log: log}
}

// errSkipLink says a symlink is not followed.
var errSkipLink = errors.New("symlink not followed")

// walk calls fn for start and for every folder and article file under it, in
// lexical order, with the file's own (symlink-resolved) info. Folders are
// reported before what they hold; fn returning filepath.SkipDir for a folder
// skips it. Only an error for start itself, or one fn returns, ends the walk.
func (w *walker) walk(start string, fn func(abs string, fi fs.FileInfo) error) error {
	return w.walkFrom(start, true, fn)
}

// walkFolders is walk reporting folders only: what it leaves out, it
// need not stat.
func (w *walker) walkFolders(start string, fn func(abs string, fi fs.FileInfo) error) error {
	return w.walkFrom(start, false, func(abs string, fi fs.FileInfo) error {
		if !fi.IsDir() {
			return nil // start itself was a file
		}
		return fn(abs, fi)
	})
}

func (w *walker) walkFrom(start string, files bool, fn func(abs string, fi fs.FileInfo) error) error {
	fi, err := os.Stat(start)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fn(start, fi)
	}
	var seen map[string]bool
	if w.follow {
		seen = map[string]bool{}
	}
	return w.walkDir(start, fi, seen, files, fn)
}

func (w *walker) walkDir(dir string, fi fs.FileInfo, seen map[string]bool, files bool, fn func(string, fs.FileInfo) error) error {
	if seen != nil {
		// Only followed symlinks can make a loop, so only then is this needed.
		id := w.realID(dir, fi)
		if seen[id] {
			return nil
		}
		seen[id] = true
	}
	if err := fn(dir, fi); err != nil {
		if errors.Is(err, filepath.SkipDir) {
			return nil
		}
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if _, dup := w.warned.LoadOrStore(dir, true); !dup {
			w.log.Warn("cannot read folder", "dir", dir, "reason", err)
		}
	}
	infos := w.statAll(dir, entries, files)
	for i, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			sub, err := e.Info()
			if err != nil {
				continue // gone since ReadDir
			}
			if err := w.walkDir(p, sub, seen, files, fn); err != nil {
				return err
			}
			continue
		}
		info := infos[i]
		if info == nil {
			continue // not an article, gone, dangling or not followed
		}
		switch {
		case info.IsDir():
			if err := w.walkDir(p, info, seen, files, fn); err != nil {
				return err
			}
		case files && info.Mode().IsRegular() && IsArticleFile(e.Name()):
			if err := fn(p, info); err != nil && !errors.Is(err, filepath.SkipDir) {
				return err
			}
		}
	}
	return nil
}

// statAll returns the info of each entry of dir that may be an article
// file, or with files unset only of symlinks, which may lead to folders
// (nil for the others, and for those gone, dangling or not followed), on
// every core: a folder of 100,000 articles is 100,000 lstat calls.
func (w *walker) statAll(dir string, entries []fs.DirEntry, files bool) []fs.FileInfo {
	infos := make([]fs.FileInfo, len(entries))
	stat := func(i int) {
		e := entries[i]
		if strings.HasPrefix(e.Name(), ".") || e.IsDir() || e.Type()&fs.ModeSymlink == 0 && (!files || !IsArticleFile(e.Name())) {
			return
		}
		if info, err := w.stat(filepath.Join(dir, e.Name())); err == nil {
			infos[i] = info
		}
	}
	workers := 0 // every core
	if len(entries) < 256 {
		workers = 1 // not worth a goroutine
	}
	parallel(workers, len(entries), stat)
	return infos
}

// stat returns the info of the file at abs, following a symlink only as the
// rules allow: errSkipLink when they do not.
func (w *walker) stat(abs string) (fs.FileInfo, error) {
	lfi, err := os.Lstat(abs)
	if err != nil {
		return nil, err
	}
	if lfi.Mode()&fs.ModeSymlink == 0 {
		return lfi, nil
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if w.follow {
		return fi, nil
	}
	if fi.IsDir() {
		if _, dup := w.warned.LoadOrStore(abs, true); !dup {
			w.log.Info("symlinked folder not followed (see --follow-symlinks)", "dir", abs)
		}
		return nil, fmt.Errorf("%s: %w: a folder", abs, errSkipLink)
	}
	if !w.inside(abs) {
		if _, dup := w.warned.LoadOrStore(abs, true); !dup {
			w.log.Warn("symlink leads outside the content folder; skipped (see --follow-symlinks)", "file", abs)
		}
		return nil, fmt.Errorf("%s: %w: it leads outside the content folder", abs, errSkipLink)
	}
	return fi, nil
}

// inside reports whether the symlink at abs resolves to a path within the
// content folder.
func (w *walker) inside(abs string) bool {
	target, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(w.real, target)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// realID names the real folder behind dir: its device and inode where the
// system tells them, else its resolved path.
func (w *walker) realID(dir string, fi fs.FileInfo) string {
	if k := keyOf(fi); k != (fileKey{}) {
		return fmt.Sprint(k.dev, ":", k.ino)
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		return real
	}
	return dir
}
