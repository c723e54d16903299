package keyring

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func master(b byte) []byte { return bytes.Repeat([]byte{b}, MasterKeySize) }

func newKeyring(t *testing.T, m []byte) *Keyring {
	t.Helper()
	k, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// roundTrip persists st as the engine does (JSON) and reads it back.
func roundTrip(t *testing.T, st *State) *State {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var out *State
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSealOpenAcrossReload(t *testing.T) {
	k := newKeyring(t, master(1))
	if k.State() != nil {
		t.Fatal("an empty keyring has state")
	}
	id, created, err := k.DataKey("000000000000", "alias/aws/kinesis", now)
	if err != nil || !created {
		t.Fatalf("DataKey = %d, %v, %v", id, created, err)
	}
	if again, created, _ := k.DataKey("000000000000", "alias/aws/kinesis", now); again != id || created {
		t.Fatalf("second DataKey = %d, %v; want %d, false", again, created, id)
	}
	other, _, _ := k.DataKey("111111111111", "alias/aws/kinesis", now)
	if other == id {
		t.Fatal("two accounts share a data key")
	}
	blob, err := k.Seal(id, []byte("secret"), []byte("shard 7"))
	if err != nil {
		t.Fatal(err)
	}
	if len(blob) != len("secret")+Overhead || bytes.Contains(blob, []byte("secret")) {
		t.Fatalf("blob %x: wrong size or holds the plaintext", blob)
	}

	// A new process: same master key, state from disk.
	k2 := newKeyring(t, master(1))
	if err := k2.Load(roundTrip(t, k.State())); err != nil {
		t.Fatal(err)
	}
	pt, err := k2.Open(blob, []byte("shard 7"))
	if err != nil || string(pt) != "secret" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if got, ok := k2.Lookup("000000000000", "alias/aws/kinesis"); !ok || got != id {
		t.Fatalf("Lookup = %d, %v; want %d", got, ok, id)
	}
	// The wrapped state holds no data key in the clear.
	for _, w := range k.State().Keys {
		if len(w.Wrapped) != nonceSize+MasterKeySize+tagSize {
			t.Fatalf("wrapped key of %d bytes", len(w.Wrapped))
		}
	}
}

func TestWrongMasterKeyFailsLoudly(t *testing.T) {
	k := newKeyring(t, master(1))
	k.DataKey("000000000000", "alias/aws/kinesis", now)
	err := newKeyring(t, master(2)).Load(roundTrip(t, k.State()))
	if !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("Load under another master key = %v, want ErrWrongMasterKey", err)
	}
	// Nothing was ever encrypted: any master key will do.
	if err := newKeyring(t, master(2)).Load(nil); err != nil {
		t.Fatal(err)
	}
}

func TestTamperingFails(t *testing.T) {
	k := newKeyring(t, master(1))
	id, _, _ := k.DataKey("000000000000", "alias/aws/kinesis", now)
	blob, _ := k.Seal(id, []byte("secret"), []byte("aad"))

	for i := range blob {
		bad := bytes.Clone(blob)
		bad[i] ^= 0x01
		if _, err := k.Open(bad, []byte("aad")); err == nil {
			t.Fatalf("Open succeeded with byte %d flipped", i)
		}
	}
	if _, err := k.Open(blob, []byte("other aad")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open with other aad = %v, want ErrCorrupt", err)
	}
	if _, err := k.Open(blob[:10], []byte("aad")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open of a short blob = %v, want ErrCorrupt", err)
	}

	st := roundTrip(t, k.State())
	st.Keys[0].Wrapped[len(st.Keys[0].Wrapped)-1] ^= 1
	if err := newKeyring(t, master(1)).Load(st); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load with a tampered wrapped key = %v, want ErrCorrupt", err)
	}
	// A wrapped key moved to another account does not unwrap.
	st = roundTrip(t, k.State())
	st.Keys[0].Account = "111111111111"
	if err := newKeyring(t, master(1)).Load(st); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Load with a key moved to another account = %v, want ErrCorrupt", err)
	}
}

func TestUnknownKey(t *testing.T) {
	k := newKeyring(t, master(1))
	if _, err := k.Seal(9, []byte("x"), nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Seal with unknown id = %v", err)
	}
	other := newKeyring(t, master(1))
	id, _, _ := other.DataKey("a", "b", now)
	blob, _ := other.Seal(id, []byte("x"), nil)
	if _, err := k.Open(blob, nil); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Open with unknown id = %v", err)
	}
}

func TestRewrapKeepsBlobsReadable(t *testing.T) {
	k := newKeyring(t, master(1))
	id, _, _ := k.DataKey("000000000000", "alias/aws/kinesis", now)
	blob, _ := k.Seal(id, []byte("secret"), nil)
	st, err := k.Rewrap(master(3))
	if err != nil {
		t.Fatal(err)
	}
	if err := newKeyring(t, master(1)).Load(st); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("rewrapped state under the old key = %v, want ErrWrongMasterKey", err)
	}
	k3 := newKeyring(t, master(3))
	if err := k3.Load(roundTrip(t, st)); err != nil {
		t.Fatal(err)
	}
	if pt, err := k3.Open(blob, nil); err != nil || string(pt) != "secret" {
		t.Fatalf("Open after rewrap = %q, %v", pt, err)
	}
}

func TestLoadMaster(t *testing.T) {
	key := master(7)
	enc := EncodeMasterKey(key)

	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	os.WriteFile(file, []byte(enc+"\n"), 0o600)
	got, origin, err := LoadMaster(MasterSource{File: file, Env: EncodeMasterKey(master(8)), DataDir: dir})
	if err != nil || origin != FromFile || !bytes.Equal(got, key) {
		t.Fatalf("from file: %x, %v, %v", got, origin, err)
	}
	got, origin, err = LoadMaster(MasterSource{Env: enc, DataDir: dir})
	if err != nil || origin != FromEnv || !bytes.Equal(got, key) {
		t.Fatalf("from env: %x, %v, %v", got, origin, err)
	}
	if _, _, err := LoadMaster(MasterSource{Env: "c2hvcnQ="}); err == nil {
		t.Fatal("a short key from the environment was accepted")
	}
	if _, _, err := LoadMaster(MasterSource{File: filepath.Join(dir, "missing")}); err == nil {
		t.Fatal("a missing key file was accepted")
	}
	if _, origin, err := LoadMaster(MasterSource{InMemory: true}); err != nil || origin != FromEphemeral {
		t.Fatalf("in memory: %v, %v", origin, err)
	}

	// Nothing configured: no key, and nothing generated beside the data.
	data := filepath.Join(dir, "data")
	if key, origin, err := LoadMaster(MasterSource{DataDir: data}); err != nil || origin != FromNone || key != nil {
		t.Fatalf("nothing configured: %x, %v, %v; want no key", key, origin, err)
	}
	if _, err := os.Stat(filepath.Join(data, MasterKeyFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a master key was written into the data directory: %v", err)
	}
	// A key left in the data directory by an older release is still read.
	os.MkdirAll(data, 0o700)
	os.WriteFile(filepath.Join(data, MasterKeyFileName), []byte(enc), 0o600)
	if got, origin, err := LoadMaster(MasterSource{DataDir: data}); err != nil || origin != FromDataDir || !bytes.Equal(got, key) {
		t.Fatalf("legacy key: %x, %v, %v", got, origin, err)
	}
}

func TestWriteMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "master.key")
	key, err := WriteMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, %v; want mode %o", p, fi, err, want)
		}
	}
	if got, err := ReadMasterKeyFile(path); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("read back: %x, %v", got, err)
	}
	if _, err := WriteMasterKeyFile(path); err == nil {
		t.Fatal("an existing master key file was replaced")
	}
}

func TestWithoutMaster(t *testing.T) {
	k := NewWithoutMaster()
	if err := k.Load(nil); err != nil {
		t.Fatalf("Load(nil) without a master key: %v", err)
	}
	if _, _, err := k.DataKey("000000000000", "alias/aws/kinesis", now); !errors.Is(err, ErrNoMasterKey) {
		t.Fatalf("DataKey without a master key: %v, want ErrNoMasterKey", err)
	}
	// Data encrypted earlier cannot be opened without the key: a loud
	// failure, not silently unreadable records.
	full := newKeyring(t, master(1))
	full.DataKey("000000000000", "alias/aws/kinesis", now)
	if err := k.Load(roundTrip(t, full.State())); !errors.Is(err, ErrNoMasterKey) {
		t.Fatalf("Load of encrypted state without a master key: %v, want ErrNoMasterKey", err)
	}
}

func TestRotateWithPrevious(t *testing.T) {
	old := newKeyring(t, master(1))
	id, _, _ := old.DataKey("000000000000", "alias/aws/kinesis", now)
	blob, _ := old.Seal(id, []byte("secret"), []byte("aad"))
	stored := roundTrip(t, old.State())

	// The new key alone does not open the old state.
	if err := newKeyring(t, master(2)).Load(stored); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("new key without previous: %v, want ErrWrongMasterKey", err)
	}
	// With the previous key named, the state is re-wrapped under the new one.
	k := newKeyring(t, master(2))
	if err := k.SetPrevious(master(1)); err != nil {
		t.Fatal(err)
	}
	if err := k.Load(stored); err != nil {
		t.Fatalf("Load with previous: %v", err)
	}
	if !k.Rewrapped() {
		t.Fatal("Rewrapped is false after loading a state under the previous key")
	}
	if pt, err := k.Open(blob, []byte("aad")); err != nil || string(pt) != "secret" {
		t.Fatalf("Open after rotation: %q, %v", pt, err)
	}
	rotated := roundTrip(t, k.State())
	// The persisted result opens with the new key alone, not the old.
	k2 := newKeyring(t, master(2))
	if err := k2.Load(rotated); err != nil || k2.Rewrapped() {
		t.Fatalf("new key on the rotated state: %v, rewrapped %v", err, k2.Rewrapped())
	}
	if pt, err := k2.Open(blob, []byte("aad")); err != nil || string(pt) != "secret" {
		t.Fatalf("Open with the new key: %q, %v", pt, err)
	}
	if err := newKeyring(t, master(1)).Load(rotated); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("old key on the rotated state: %v, want ErrWrongMasterKey", err)
	}
	// Starting again with both keys after the rotation changes nothing.
	k3 := newKeyring(t, master(2))
	k3.SetPrevious(master(1))
	if err := k3.Load(rotated); err != nil || k3.Rewrapped() {
		t.Fatalf("both keys on the rotated state: %v, rewrapped %v", err, k3.Rewrapped())
	}
	// Neither key: loud failure.
	k4 := newKeyring(t, master(3))
	k4.SetPrevious(master(4))
	if err := k4.Load(rotated); !errors.Is(err, ErrWrongMasterKey) {
		t.Fatalf("two wrong keys: %v, want ErrWrongMasterKey", err)
	}
}

func TestParseMasterKeyRaw(t *testing.T) {
	raw := bytes.Repeat([]byte{0xff}, MasterKeySize)
	got, err := ParseMasterKey(raw)
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("raw key: %x, %v", got, err)
	}
}
