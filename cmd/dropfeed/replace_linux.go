package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// replaceDir puts the folder tmp in out's place and removes the old out.
// On Linux the two folders swap names in one renameat2(RENAME_EXCHANGE)
// call, so that every path under out is always there, from the old tree or
// the new one, never half written. Where the filesystem cannot exchange,
// it falls back to replaceByRenames.
func replaceDir(tmp, out string) error {
	// Flush the new tree first: a crash just after the swap must not leave empty files in out.
	if err := syncFS(tmp); err != nil {
		return err
	}
	err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, out, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		// tmp now holds the old tree.
		return os.RemoveAll(tmp)
	case errors.Is(err, unix.ENOENT):
		// No output yet: nothing to exchange with.
		return os.Rename(tmp, out)
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		return replaceByRenames(tmp, out)
	}
	return fmt.Errorf("exchange %s and %s: %w", tmp, out, err)
}

// syncFS flushes the filesystem that holds dir to disk.
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
