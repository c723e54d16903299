package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"

	"github.com/riffle-streams/riffle/internal/keyring"
	"github.com/riffle-streams/riffle/internal/store"
)

// Server-side encryption, as StartStreamEncryption and StopStreamEncryption
// offer it: records written while a stream is encrypted are stored sealed
// with AES-256-GCM under the data key of (account, KMS key id), which the
// keyring keeps wrapped under the master key. Only new data changes, as in
// Kinesis: records written before encryption started stay in plaintext, and
// those written while it was on stay sealed after it stops.
//
// A sealed record is self-describing, so that reading needs no history of
// when encryption was switched on and off in each shard (and shards created
// by resharding after the switch need nothing either):
//
//	store.Record.PartitionKey  ""  (Kinesis requires partition keys of 1 to 256 characters,
//	                                so no plaintext record has an empty one)
//	store.Record.Data          keyring blob of  uvarint(len(pk)) | pk | data,
//	                           associated data "riffle/record/v1" | shard uid (8 bytes, big endian)
//
// The shard uid in the associated data keeps a sealed record from being
// replayed into another shard. The blob names its data key (see package
// keyring), so a stream re-keyed to another KMS key id still reads its older
// records.

// EncryptionKMS is the only encryption type a stream can be switched to.
const EncryptionKMS = "KMS"

// StartStreamEncryptionInput is the input of StartStreamEncryption.
type StartStreamEncryptionInput struct {
	StreamRef
	EncryptionType string
	KeyId          string
}

// StopStreamEncryptionInput is the input of StopStreamEncryption.
type StopStreamEncryptionInput struct {
	StreamRef
	EncryptionType string
	KeyId          string
}

// openKeyring unwraps the persisted data keys, failing loudly if the master
// key is not the one they were wrapped under. Called by Open.
func (e *Engine) openKeyring() error {
	if e.cfg.Keyring == nil {
		e.cfg.Keyring = keyring.NewEphemeral()
	}
	if err := e.cfg.Keyring.Load(e.meta.Keyring); err != nil {
		return fmt.Errorf("engine: open keyring of the encrypted streams: %w", err)
	}
	if e.cfg.Keyring.Rewrapped() {
		// Master key rotation: the data keys were unwrapped with the
		// previous master key and re-wrapped under the new one; persist
		// them before anything is sealed.
		e.meta.Keyring = e.cfg.Keyring.State()
		if err := e.saveLocked(); err != nil {
			return fmt.Errorf("engine: persist data keys re-wrapped under the new master key: %w", err)
		}
	}
	return nil
}

// kmsKeyIDRE matches the forms of KMS key id that Kinesis accepts: a key id
// (UUID, or mrk- for a multi-Region key), an alias name, or the ARN of either.
var kmsKeyIDRE = regexp.MustCompile(`^(?:` +
	`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}` +
	`|mrk-[0-9a-fA-F]{32}` +
	`|alias/[a-zA-Z0-9/_-]+` +
	`|arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:(?:key/(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})|alias/[a-zA-Z0-9/_-]+)` +
	`)$`)

// checkEncryptionInput applies the checks both operations share: the model
// allows NONE, but Kinesis takes only KMS, and a key id must name a KMS key.
func checkEncryptionInput(op, typ, keyID string) error {
	if typ != EncryptionKMS {
		return errorf(KindInvalidArgument, "Encryption type %s is not valid for %s. The only valid value is KMS.", typ, op)
	}
	if !kmsKeyIDRE.MatchString(keyID) {
		return errorf(KindInvalidArgument, "Invalid KeyId %s. KeyId must be a key id, an alias name (alias/NAME), or the ARN of a key or an alias.", keyID)
	}
	return nil
}

// StartStreamEncryption encrypts the records written to a stream from now on
// under the given KMS key id (or switches an encrypted stream to another key).
func (e *Engine) StartStreamEncryption(ctx context.Context, in *StartStreamEncryptionInput) error {
	if err := checkEncryptionInput("StartStreamEncryption", in.EncryptionType, in.KeyId); err != nil {
		return err
	}
	return e.changeEncryption(ctx, in.StreamRef, EncryptionKMS, in.KeyId)
}

// StopStreamEncryption stores the records written to a stream from now on in
// plaintext. Records already encrypted stay so, and readable.
func (e *Engine) StopStreamEncryption(ctx context.Context, in *StopStreamEncryptionInput) error {
	if err := checkEncryptionInput("StopStreamEncryption", in.EncryptionType, in.KeyId); err != nil {
		return err
	}
	return e.changeEncryption(ctx, in.StreamRef, "", "")
}

// changeEncryption sets a stream's encryption (typ "" for none). The change
// applies to records enqueued after it, at once: appends enqueue under e.mu
// held for reading, so none is in flight while this holds it for writing.
// Kinesis starts encrypting only once the stream is ACTIVE again; encrypting
// already while it is UPDATING is the stricter choice, and survives a restart
// in the middle. The stream shows UPDATING for UpdateStreamDelay.
func (e *Engine) changeEncryption(ctx context.Context, ref StreamRef, typ, keyID string) error {
	c := e.caller(ctx)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errClosed
	}
	s, err := e.resolve(c, ref)
	if err != nil {
		return err
	}
	sm := s.meta
	if sm.Status != StatusActive {
		return errStreamNotActive(sm.Name, sm.Account, sm.Status)
	}
	if typ != "" {
		// The data key is persisted (with the metadata below) before any
		// record is sealed with it: appends are excluded until then.
		if _, _, err := e.cfg.Keyring.DataKey(sm.Account, keyID, e.cfg.Now()); err != nil {
			if errors.Is(err, keyring.ErrNoMasterKey) {
				return errorf(KindInvalidArgument, "Encryption at rest is not available: the server has no master key. Start it with --master-key-file or %s.", keyring.EnvMasterKey)
			}
			return fmt.Errorf("engine: data key for %s: %w", keyID, err)
		}
		e.meta.Keyring = e.cfg.Keyring.State()
	}
	oldType, oldKey := sm.EncryptionType, sm.KeyID
	sm.EncryptionType, sm.KeyID = typ, keyID
	updating := e.cfg.UpdateStreamDelay > 0
	if updating {
		sm.Status = StatusUpdating
	}
	if err := e.saveLocked(); err != nil {
		// An unused data key may stay in the keyring; it is harmless.
		sm.EncryptionType, sm.KeyID, sm.Status = oldType, oldKey, StatusActive
		return err
	}
	if updating {
		e.after(s, e.cfg.UpdateStreamDelay, func() { sm.Status = StatusActive })
	}
	return nil
}

// recordAAD binds a sealed record to its shard.
func recordAAD(uid uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte("riffle/record/v1"), uid)
}

// sealRecord returns the record to store for a put to shard sh of s: sealed
// if s is encrypted, as given otherwise. Callers hold e.mu (for reading at
// least), so that the stream's encryption cannot change underneath.
func (e *Engine) sealRecord(s *stream, sh *shardState, partitionKey string, data []byte) (store.Record, error) {
	if s.meta.EncryptionType != EncryptionKMS {
		return store.Record{PartitionKey: partitionKey, Data: data}, nil
	}
	id, ok := e.cfg.Keyring.Lookup(s.meta.Account, s.meta.KeyID)
	if !ok {
		// changeEncryption creates the key before the stream refers to it.
		return store.Record{}, fmt.Errorf("engine: stream %s is encrypted with %s but the keyring has no data key for it", s.meta.Name, s.meta.KeyID)
	}
	plain := make([]byte, 0, binary.MaxVarintLen64+len(partitionKey)+len(data))
	plain = binary.AppendUvarint(plain, uint64(len(partitionKey)))
	plain = append(plain, partitionKey...)
	plain = append(plain, data...)
	blob, err := e.cfg.Keyring.Seal(id, plain, recordAAD(sh.meta.UID))
	if err != nil {
		return store.Record{}, fmt.Errorf("engine: seal record for stream %s: %w", s.meta.Name, err)
	}
	return store.Record{Data: blob}, nil
}

// openRecord returns the partition key and data of a stored record of shard
// uid, and "KMS" if it was stored sealed. A sealed record that fails to open
// is an error, never skipped: it means a wrong keyring or altered data.
func (e *Engine) openRecord(uid uint64, r store.Record) (partitionKey string, data []byte, encryption string, err error) {
	if r.PartitionKey != "" {
		return r.PartitionKey, r.Data, "", nil
	}
	plain, err := e.cfg.Keyring.Open(r.Data, recordAAD(uid))
	if err != nil {
		return "", nil, "", fmt.Errorf("engine: open encrypted record %d of shard uid %d: %w", r.Seq, uid, err)
	}
	n, w := binary.Uvarint(plain)
	if w <= 0 || n > uint64(len(plain)-w) {
		return "", nil, "", fmt.Errorf("engine: encrypted record %d of shard uid %d: malformed plaintext", r.Seq, uid)
	}
	return string(plain[w : w+int(n)]), plain[w+int(n):], EncryptionKMS, nil
}
