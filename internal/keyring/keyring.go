// Package keyring keeps the keys that encrypt records at rest.
//
// Two levels of keys, the envelope scheme of KMS:
//
//   - The master key (32 bytes) never touches the data: it comes from a file
//     or an environment variable (see LoadMaster) and only wraps data keys.
//   - A data key (32 bytes, random) encrypts records. There is one per
//     (account, KMS key id) that a stream has been encrypted with; it is
//     stored only wrapped under the master key, in State, which its owner
//     (the engine) persists with its metadata.
//
// Rotating the master key re-wraps the data keys and touches no record:
// Rewrap returns the state under a new key, and a keyring given the key it
// replaces (SetPrevious) re-wraps a state found under that key as it loads
// it. A keyring without a master key (NewWithoutMaster) refuses to create or
// unwrap data keys. A State also carries a key-check value, so that opening data with
// the wrong master key fails at once with ErrWrongMasterKey instead of on the
// first read.
//
// Formats, all AES-256-GCM with a random 96-bit nonce; frozen:
//
//	check value:  nonce(12) | seal(master, "riffle keyring check", aad "riffle/keyring/check/v1")
//	wrapped key:  nonce(12) | seal(master, dataKey(32), aad "riffle/keyring/key/v1" | id(4 BE) | account | 0 | kmsKeyID)
//	sealed blob:  version(1)=1 | id(4 BE) | nonce(12) | seal(dataKey, plaintext, aad version|id|caller's aad) (tag 16)
//
// The sealed blob names its data key, so a reader needs nothing but the blob
// (and the caller's associated data) to open it.
package keyring

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
)

// MasterKeySize is the size of a master key and of a data key: AES-256.
const MasterKeySize = 32

// Frozen format constants.
const (
	blobVersion  = 1
	nonceSize    = 12
	tagSize      = 16
	headerSize   = 1 + 4 + nonceSize
	stateVersion = 1
	checkText    = "riffle keyring check"
)

// Overhead is how many bytes Seal adds to a plaintext.
const Overhead = headerSize + tagSize

// Errors returned by the keyring.
var (
	// ErrWrongMasterKey is returned by Load when the state was written under
	// a different master key.
	ErrWrongMasterKey = errors.New("keyring: the master key is not the one this data was encrypted with")
	// ErrCorrupt is returned when a wrapped key or a sealed blob fails
	// authentication or is malformed: the bytes were altered, or sealed with
	// other associated data.
	ErrCorrupt = errors.New("keyring: authentication failed (data altered or misplaced)")
	// ErrUnknownKey is returned by Open for a blob naming a data key the
	// keyring does not hold, and by Seal for an id it does not hold.
	ErrUnknownKey = errors.New("keyring: unknown data key")
	// ErrNoMasterKey is returned by DataKey and Load of a keyring made by
	// NewWithoutMaster: the server has no master key configured, so it can
	// neither create nor unwrap data keys.
	ErrNoMasterKey = errors.New("keyring: no master key configured (--master-key-file or " + EnvMasterKey + ")")
)

// State is the persisted form of a keyring: data keys, wrapped. It holds no
// secret in the clear and may be stored beside the data. Its JSON encoding is
// part of the engine's metadata.
type State struct {
	Version int
	// Check is the key-check value: a known text sealed under the master key.
	Check []byte
	Keys  []WrappedKey
}

// WrappedKey is one data key, sealed under the master key.
type WrappedKey struct {
	ID            uint32
	Account       string
	KMSKeyID      string // as the client named it: alias, key id or ARN
	Wrapped       []byte
	CreatedMillis int64
}

type keyName struct{ account, kmsKeyID string }

// Keyring holds the unwrapped data keys in memory. Its methods are safe for
// concurrent use: Seal and Open run on the data path concurrently with each
// other and with DataKey.
type Keyring struct {
	master cipher.AEAD // nil for a keyring made by NewWithoutMaster
	// previous is the master key being rotated away from (SetPrevious); nil
	// when not rotating.
	previous cipher.AEAD
	// rewrapped is set by Load when it found the state under previous and
	// re-wrapped it under master; the owner must then persist State.
	rewrapped bool // guarded by mu

	mu     sync.RWMutex
	state  State                  // guarded by mu; State() returns copies
	keys   map[uint32]cipher.AEAD // guarded by mu
	byName map[keyName]uint32     // guarded by mu
}

// New returns an empty keyring under a 32-byte master key. It keeps no
// reference to master.
func New(master []byte) (*Keyring, error) {
	aead, err := newAEAD(master)
	if err != nil {
		return nil, fmt.Errorf("keyring: master key: %w", err)
	}
	return &Keyring{master: aead, keys: make(map[uint32]cipher.AEAD), byName: make(map[keyName]uint32)}, nil
}

// NewWithoutMaster returns an empty keyring with no master key, for a server
// whose operator configured none: encryption at rest is refused
// (ErrNoMasterKey) instead of done under a key nobody keeps.
func NewWithoutMaster() *Keyring {
	return &Keyring{keys: make(map[uint32]cipher.AEAD), byName: make(map[keyName]uint32)}
}

// SetPrevious names the master key being rotated away from: Load accepts a
// state wrapped under it and re-wraps it under the keyring's master key
// (Rewrapped then reports true). Call it before Load.
func (k *Keyring) SetPrevious(previous []byte) error {
	aead, err := newAEAD(previous)
	if err != nil {
		return fmt.Errorf("keyring: previous master key: %w", err)
	}
	if k.master == nil {
		return fmt.Errorf("keyring: a previous master key needs a new one: %w", ErrNoMasterKey)
	}
	k.previous = aead
	return nil
}

// Rewrapped reports whether the last Load re-wrapped the state from the
// previous master key to the current one, so that the caller must persist
// State (until it does, the stored state is still under the previous key).
func (k *Keyring) Rewrapped() bool {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.rewrapped
}

// NewEphemeral returns an empty keyring under a random master key, for
// servers that keep nothing on disk.
func NewEphemeral() *Keyring {
	k, err := New(randomBytes(MasterKeySize))
	if err != nil {
		panic(err) // unreachable: the key has the right size
	}
	return k
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("want %d bytes, got %d", MasterKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never returns an error (crypto/rand documents it)
	return b
}

// Load replaces the keyring's contents with st, unwrapping every data key. A
// nil st empties the keyring. It returns ErrWrongMasterKey if st was written
// under another master key (and not under the previous one, see
// SetPrevious), ErrNoMasterKey if st holds keys but the keyring has no master
// key, ErrCorrupt (wrapped) if a key fails to unwrap.
func (k *Keyring) Load(st *State) error {
	keys := make(map[uint32]cipher.AEAD)
	byName := make(map[keyName]uint32)
	var copied State
	rewrapped := false
	if st != nil && (len(st.Check) > 0 || len(st.Keys) > 0) {
		if st.Version != stateVersion {
			return fmt.Errorf("keyring: state version %d, want %d", st.Version, stateVersion)
		}
		if k.master == nil {
			return fmt.Errorf("keyring: the data holds encrypted streams: %w", ErrNoMasterKey)
		}
		unwrapper := k.master
		if _, err := openWith(k.master, st.Check, []byte("riffle/keyring/check/v1")); err != nil {
			if k.previous == nil {
				return ErrWrongMasterKey
			}
			if _, err := openWith(k.previous, st.Check, []byte("riffle/keyring/check/v1")); err != nil {
				return fmt.Errorf("%w (nor the previous one)", ErrWrongMasterKey)
			}
			unwrapper, rewrapped = k.previous, true
		}
		copied = cloneState(st)
		if rewrapped {
			copied.Check = sealWith(k.master, []byte(checkText), []byte("riffle/keyring/check/v1"))
		}
		for i, w := range copied.Keys {
			raw, err := openWith(unwrapper, w.Wrapped, wrapAAD(w.ID, w.Account, w.KMSKeyID))
			if err != nil {
				return fmt.Errorf("keyring: unwrap data key %d (%s, %s): %w", w.ID, w.Account, w.KMSKeyID, ErrCorrupt)
			}
			if rewrapped {
				copied.Keys[i].Wrapped = sealWith(k.master, raw, wrapAAD(w.ID, w.Account, w.KMSKeyID))
			}
			aead, err := newAEAD(raw)
			if err != nil {
				return fmt.Errorf("keyring: data key %d: %w", w.ID, err)
			}
			if _, dup := keys[w.ID]; dup {
				return fmt.Errorf("keyring: data key id %d appears twice", w.ID)
			}
			keys[w.ID] = aead
			byName[keyName{w.Account, w.KMSKeyID}] = w.ID
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.state, k.keys, k.byName, k.rewrapped = copied, keys, byName, rewrapped
	return nil
}

// State returns a copy of the keyring's persisted form, or nil while it holds
// no data key (so that data never encrypted does not depend on a master key).
func (k *Keyring) State() *State {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if len(k.state.Keys) == 0 {
		return nil
	}
	st := cloneState(&k.state)
	return &st
}

func cloneState(st *State) State {
	out := State{Version: st.Version, Check: bytes.Clone(st.Check), Keys: make([]WrappedKey, len(st.Keys))}
	for i, w := range st.Keys {
		w.Wrapped = bytes.Clone(w.Wrapped)
		out.Keys[i] = w
	}
	return out
}

// DataKey returns the id of the data key of (account, kmsKeyID), generating
// it on first use; created reports that it did, in which case the caller must
// persist State before sealing anything with the key.
func (k *Keyring) DataKey(account, kmsKeyID string, now time.Time) (id uint32, created bool, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if id, ok := k.byName[keyName{account, kmsKeyID}]; ok {
		return id, false, nil
	}
	if k.master == nil {
		return 0, false, ErrNoMasterKey
	}
	if k.state.Check == nil {
		k.state.Version = stateVersion
		k.state.Check = sealWith(k.master, []byte(checkText), []byte("riffle/keyring/check/v1"))
	}
	id = 1
	for _, w := range k.state.Keys {
		id = max(id, w.ID+1)
	}
	raw := randomBytes(MasterKeySize)
	aead, err := newAEAD(raw)
	if err != nil {
		return 0, false, fmt.Errorf("keyring: new data key: %w", err)
	}
	k.state.Keys = append(k.state.Keys, WrappedKey{
		ID:            id,
		Account:       account,
		KMSKeyID:      kmsKeyID,
		Wrapped:       sealWith(k.master, raw, wrapAAD(id, account, kmsKeyID)),
		CreatedMillis: now.UnixMilli(),
	})
	k.keys[id] = aead
	k.byName[keyName{account, kmsKeyID}] = id
	return id, true, nil
}

// Lookup returns the id of the data key of (account, kmsKeyID) if it exists.
func (k *Keyring) Lookup(account, kmsKeyID string) (uint32, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	id, ok := k.byName[keyName{account, kmsKeyID}]
	return id, ok
}

// Seal encrypts plaintext under data key id, binding aad (which Open must be
// given again) and returns a new blob of len(plaintext)+Overhead bytes.
func (k *Keyring) Seal(id uint32, plaintext, aad []byte) ([]byte, error) {
	k.mu.RLock()
	aead := k.keys[id]
	k.mu.RUnlock()
	if aead == nil {
		return nil, fmt.Errorf("%w: id %d", ErrUnknownKey, id)
	}
	out := make([]byte, headerSize, headerSize+len(plaintext)+tagSize)
	out[0] = blobVersion
	binary.BigEndian.PutUint32(out[1:5], id)
	rand.Read(out[5:headerSize])
	return aead.Seal(out, out[5:headerSize], plaintext, blobAAD(out[:5], aad)), nil
}

// Open decrypts a blob made by Seal with the same aad and returns the
// plaintext in a new slice. It returns ErrUnknownKey or ErrCorrupt, wrapped.
func (k *Keyring) Open(blob, aad []byte) ([]byte, error) {
	if len(blob) < headerSize+tagSize || blob[0] != blobVersion {
		return nil, fmt.Errorf("%w: malformed blob of %d bytes", ErrCorrupt, len(blob))
	}
	id := binary.BigEndian.Uint32(blob[1:5])
	k.mu.RLock()
	aead := k.keys[id]
	k.mu.RUnlock()
	if aead == nil {
		return nil, fmt.Errorf("%w: id %d", ErrUnknownKey, id)
	}
	pt, err := aead.Open(nil, blob[5:headerSize], blob[headerSize:], blobAAD(blob[:5], aad))
	if err != nil {
		return nil, fmt.Errorf("%w: data key %d", ErrCorrupt, id)
	}
	return pt, nil
}

// Rewrap returns the keyring's state re-wrapped under newMaster, for master
// key rotation: the data keys, and so every sealed blob, stay valid. The
// keyring itself is unchanged; the caller persists the result and then
// restarts with (or Loads it into a keyring under) the new master key.
func (k *Keyring) Rewrap(newMaster []byte) (*State, error) {
	next, err := newAEAD(newMaster)
	if err != nil {
		return nil, fmt.Errorf("keyring: new master key: %w", err)
	}
	if k.master == nil {
		return nil, ErrNoMasterKey
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	st := cloneState(&k.state)
	st.Version = stateVersion
	st.Check = sealWith(next, []byte(checkText), []byte("riffle/keyring/check/v1"))
	for i, w := range st.Keys {
		raw, err := openWith(k.master, w.Wrapped, wrapAAD(w.ID, w.Account, w.KMSKeyID))
		if err != nil {
			return nil, fmt.Errorf("keyring: unwrap data key %d: %w", w.ID, ErrCorrupt)
		}
		st.Keys[i].Wrapped = sealWith(next, raw, wrapAAD(w.ID, w.Account, w.KMSKeyID))
	}
	return &st, nil
}

func wrapAAD(id uint32, account, kmsKeyID string) []byte {
	b := []byte("riffle/keyring/key/v1")
	b = binary.BigEndian.AppendUint32(b, id)
	b = append(b, account...)
	b = append(b, 0) // account ids hold no NUL, so the split is unambiguous
	return append(b, kmsKeyID...)
}

func blobAAD(header, aad []byte) []byte {
	return append(bytes.Clone(header), aad...)
}

// sealWith returns nonce | ciphertext | tag.
func sealWith(aead cipher.AEAD, plaintext, aad []byte) []byte {
	nonce := randomBytes(nonceSize)
	return aead.Seal(nonce, nonce, plaintext, aad)
}

func openWith(aead cipher.AEAD, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < nonceSize+tagSize {
		return nil, ErrCorrupt
	}
	pt, err := aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], aad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return pt, nil
}
