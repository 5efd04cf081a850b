// Package store keeps what dropfeed must remember across restarts (each
// file's identity and dates, the feed's own id) in a bbolt file.
//
// bbolt is a single-file, pure-Go, crash-safe B+tree (copy-on-write pages,
// fsync on commit): no cgo, no server, and a torn write can never leave a
// half-updated identity behind.
package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dropfeed/dropfeed/content"
)

var (
	bucketFiles        = []byte("files")
	bucketMeta         = []byte("meta")
	bucketFingerprints = []byte("text-fingerprints")
	bucketParsed       = []byte("parsed")
	keyFeedID          = []byte("feed-id")
)

// Store is an open state file. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
}

// Open opens (creating if needed) the state file at path. It fails after a
// second if another process holds the file, rather than hanging.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	opts := &bolt.Options{Timeout: time.Second}
	if runtime.GOOS != "windows" && strconv.IntSize == 64 {
		// Address space only, not memory. Each time bbolt grows its map it
		// first copies every key and value the transaction touched out of
		// it: for a first scan's 100,000 identities, a third of the commit.
		// (On Windows the file would grow to the map's size.)
		opts.InitialMmapSize = 1 << 30
	}
	db, err := bolt.Open(path, 0o644, opts)
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open state %s: in use by another dropfeed process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFiles, bucketMeta, bucketFingerprints, bucketParsed} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// OpenReadOnly opens an existing state file for reading only, for tools
// that inspect it while no server runs.
func OpenReadOnly(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open state %s: in use by another dropfeed process", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// Close closes the state file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state %s: %w", s.path, err)
	}
	return nil
}

// LoadIdentities returns every identity the store holds, by path.
func (s *Store) LoadIdentities() (map[string]content.Identity, error) {
	out := map[string]content.Identity{}
	err := s.db.View(func(tx *bolt.Tx) error {
		defer releaseMapped(tx)
		return tx.Bucket(bucketFiles).ForEach(func(k, v []byte) error {
			id, err := decodeIdentity(v)
			if err != nil {
				return fmt.Errorf("identity of %s: %w", k, err)
			}
			out[string(k)] = id
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", s.path, err)
	}
	return out, nil
}

// SaveIdentities writes put and removes del in one transaction, so a crash
// leaves either all of a change or none of it.
func (s *Store) SaveIdentities(put map[string]content.Identity, del []string) error {
	values := make(map[string][]byte, len(put))
	for k, id := range put {
		values[k] = encodeIdentity(id)
	}
	return s.save(bucketFiles, values, del)
}

// identityVersion starts an identity in the binary encoding; one that
// starts with '{' is JSON, as state files before it wrote them. JSON took
// half a second to read at 100,000 articles.
const identityVersion = 1

// encodeIdentity writes id as: version, then ID, Slug and Hash as
// length-prefixed strings, then FirstSeen, Changed and Deleted as
// length-prefixed time.Time binary encodings (zone offset kept).
func encodeIdentity(id content.Identity) []byte {
	b := make([]byte, 0, 1+len(id.ID)+len(id.Slug)+len(id.Hash)+3*16+6)
	b = append(b, identityVersion)
	for _, s := range []string{id.ID, id.Slug, id.Hash} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, t := range []time.Time{id.FirstSeen, id.Changed, id.Deleted} {
		tb, err := t.MarshalBinary()
		if err != nil { // an offset that is not whole minutes: keep the instant
			tb, _ = t.UTC().MarshalBinary()
		}
		b = binary.AppendUvarint(b, uint64(len(tb)))
		b = append(b, tb...)
	}
	return b
}

var errBadIdentity = errors.New("bad identity record")

// decodeIdentity reads what encodeIdentity wrote, or JSON.
func decodeIdentity(v []byte) (content.Identity, error) {
	var id content.Identity
	if len(v) > 0 && v[0] == '{' {
		err := json.Unmarshal(v, &id)
		return id, err
	}
	if len(v) == 0 || v[0] != identityVersion {
		return id, errBadIdentity
	}
	v = v[1:]
	field := func() ([]byte, bool) {
		n, k := binary.Uvarint(v)
		if k <= 0 || n > uint64(len(v)-k) {
			return nil, false
		}
		f := v[k : k+int(n)]
		v = v[k+int(n):]
		return f, true
	}
	for _, s := range []*string{&id.ID, &id.Slug, &id.Hash} {
		f, ok := field()
		if !ok {
			return id, errBadIdentity
		}
		*s = string(f)
	}
	for _, t := range []*time.Time{&id.FirstSeen, &id.Changed, &id.Deleted} {
		f, ok := field()
		if !ok {
			return id, errBadIdentity
		}
		if err := t.UnmarshalBinary(f); err != nil {
			return id, fmt.Errorf("%w: %w", errBadIdentity, err)
		}
	}
	if len(v) != 0 {
		return id, errBadIdentity
	}
	return id, nil
}

// bulkPuts is how many values make a save a bulk load.
const bulkPuts = 1000

// save writes values and removes del in bucket, in one transaction.
func (s *Store) save(bucket []byte, values map[string][]byte, del []string) error {
	return s.saveOrReplace(bucket, values, del, false)
}

// saveOrReplace is save that, with replace, first empties the bucket.
func (s *Store) saveOrReplace(bucket []byte, values map[string][]byte, del []string, replace bool) error {
	if len(values) == 0 && len(del) == 0 && !replace {
		return nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if replace {
			if err := tx.DeleteBucket(bucket); err != nil {
				return err
			}
			var err error
			if b, err = tx.CreateBucket(bucket); err != nil {
				return err
			}
		}
		if len(values) > bulkPuts {
			// Keys go in in order (below), so pages can be filled: at the
			// default half, a first scan's state file was twice its size,
			// and a restart reads all of it.
			b.FillPercent = 1
		}
		for _, k := range del {
			if err := b.Delete([]byte(k)); err != nil {
				return err
			}
		}
		// In key order: bbolt inserts into an in-memory node with a copy of
		// everything after the key, so a first scan's 100,000 keys in map
		// order took 18 s, and in order take a fraction of one.
		for _, k := range slices.Sorted(maps.Keys(values)) {
			if err := b.Put([]byte(k), values[k]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save state %s: %w", s.path, err)
	}
	// A write walks (and maps) the pages its keys are on; a first scan's,
	// all of them. The map only moves in a write, so a read transaction
	// holds it still.
	_ = s.db.View(func(tx *bolt.Tx) error {
		releaseMapped(tx)
		return nil
	})
	return nil
}

// FeedID returns the feed's own id, a urn:uuid created the first time it is
// asked for and kept from then on, so the feed id survives base URL changes.
func (s *Store) FeedID() (string, error) {
	var id string
	// Read first: a write transaction costs a commit and an fsync.
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyFeedID); v != nil {
			id = string(v)
		}
		return nil
	})
	if err != nil || id != "" {
		return id, err
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if v := b.Get(keyFeedID); v != nil {
			id = string(v)
			return nil
		}
		id = content.NewID()
		return b.Put(keyFeedID, []byte(id))
	})
	if err != nil {
		return "", fmt.Errorf("feed id in %s: %w", s.path, err)
	}
	return id, nil
}

// LoadFingerprints returns the paragraph fingerprints of every plain-text
// file the Library learned boilerplate from, by path.
func (s *Store) LoadFingerprints() (map[string][]content.Fingerprint, error) {
	out := map[string][]content.Fingerprint{}
	err := s.db.View(func(tx *bolt.Tx) error {
		defer releaseMapped(tx)
		// A state file written before boilerplate was learned has no bucket,
		// and one opened read-only cannot get it.
		b := tx.Bucket(bucketFingerprints)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(v)%8 != 0 {
				return fmt.Errorf("fingerprints of %s: %d bytes, not a multiple of 8", k, len(v))
			}
			fps := make([]content.Fingerprint, len(v)/8)
			for i := range fps {
				fps[i] = content.Fingerprint(binary.BigEndian.Uint64(v[8*i:]))
			}
			out[string(k)] = fps
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", s.path, err)
	}
	return out, nil
}

// SaveFingerprints writes put and removes del in one transaction; each
// file's fingerprints are stored as 8 big-endian bytes apiece.
func (s *Store) SaveFingerprints(put map[string][]content.Fingerprint, del []string) error {
	values := make(map[string][]byte, len(put))
	for k, fps := range put {
		v := make([]byte, 0, 8*len(fps))
		for _, fp := range fps {
			v = binary.BigEndian.AppendUint64(v, uint64(fp))
		}
		values[k] = v
	}
	return s.save(bucketFingerprints, values, del)
}

// LoadParsed returns the Library's parse cache records, by path (and the
// record naming its body file). The store does not read them.
func (s *Store) LoadParsed() (map[string][]byte, error) {
	var out map[string][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		defer releaseMapped(tx)
		// A state file written before the parse cache has no bucket, and
		// one opened read-only cannot get it.
		b := tx.Bucket(bucketParsed)
		if b == nil {
			return nil
		}
		// Values live as long as the transaction: they are copied into one
		// allocation rather than one each.
		n, size := 0, 0
		err := b.ForEach(func(k, v []byte) error {
			n, size = n+1, size+len(v)
			return nil
		})
		if err != nil {
			return err
		}
		out = make(map[string][]byte, n)
		arena := make([]byte, 0, size)
		return b.ForEach(func(k, v []byte) error {
			arena = append(arena, v...)
			out[string(k)] = arena[len(arena)-len(v) : len(arena) : len(arena)]
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load state %s: %w", s.path, err)
	}
	return out, nil
}

// ViewParsed calls fn with a lookup of parse cache records by key, in a
// read transaction: the bytes are bbolt's own, good until fn returns.
func (s *Store) ViewParsed(fn func(get func(key string) []byte) error) error {
	err := s.db.View(func(tx *bolt.Tx) error {
		defer releaseMapped(tx)
		b := tx.Bucket(bucketParsed)
		return fn(func(key string) []byte {
			if b == nil {
				return nil // a state file from before the parse cache
			}
			return b.Get([]byte(key))
		})
	})
	if err != nil {
		return fmt.Errorf("load state %s: %w", s.path, err)
	}
	return nil
}

// SaveParsed writes put and removes del in one transaction; with clear,
// every other record is removed too.
func (s *Store) SaveParsed(put map[string][]byte, del []string, clear bool) error {
	return s.saveOrReplace(bucketParsed, put, del, clear)
}
