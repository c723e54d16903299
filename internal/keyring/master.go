package keyring

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// EnvMasterKey is the environment variable that may hold the master key, in
// base64. It is not a flag on purpose: a key on the command line is visible to
// every user of the machine.
const EnvMasterKey = "RIFFLE_MASTER_KEY"

// MasterKeyFileName is the file, in the data directory, where servers before
// this release generated a master key when none was given. It is still read
// (with a warning) so that such data stays readable, but never created: a key
// beside the data protects nothing from whoever copies the directory.
const MasterKeyFileName = "master.key"

// Origin says where a master key came from.
type Origin int

// The origins of a master key, in the order LoadMaster tries them.
const (
	FromFile      Origin = iota // --master-key-file
	FromEnv                     // RIFFLE_MASTER_KEY
	FromDataDir                 // <data-dir>/master.key left by an older release
	FromEphemeral               // random, for an in-memory server
	FromNone                    // no key configured: encryption at rest is off
)

func (o Origin) String() string {
	switch o {
	case FromFile:
		return "file"
	case FromEnv:
		return "environment"
	case FromDataDir:
		return "data directory"
	case FromNone:
		return "none"
	default:
		return "ephemeral"
	}
}

// MasterSource lists where LoadMaster may find the master key.
type MasterSource struct {
	File     string // path given by --master-key-file; "" if none
	Env      string // value of RIFFLE_MASTER_KEY; "" if unset
	DataDir  string // data directory, for a key left there by an older release
	InMemory bool   // the server keeps nothing on disk
}

// LoadMaster returns the master key from the first source set: the file, the
// environment, then (with nothing given) an ephemeral key for an in-memory
// server, or a legacy <DataDir>/master.key if one exists. With none of these
// it returns a nil key and FromNone: the server then refuses to encrypt
// (see NewWithoutMaster) rather than invent a key the operator does not know
// to keep and back up.
func LoadMaster(src MasterSource) ([]byte, Origin, error) {
	switch {
	case src.File != "":
		key, err := ReadMasterKeyFile(src.File)
		return key, FromFile, err
	case src.Env != "":
		key, err := ParseMasterKey([]byte(src.Env))
		if err != nil {
			return nil, FromEnv, fmt.Errorf("keyring: %s: %w", EnvMasterKey, err)
		}
		return key, FromEnv, nil
	case src.InMemory:
		return randomBytes(MasterKeySize), FromEphemeral, nil
	}
	path := filepath.Join(src.DataDir, MasterKeyFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, FromNone, nil
	}
	if err != nil {
		return nil, FromDataDir, fmt.Errorf("keyring: read master key: %w", err)
	}
	key, err := ParseMasterKey(b)
	if err != nil {
		return nil, FromDataDir, fmt.Errorf("keyring: %s: %w", path, err)
	}
	return key, FromDataDir, nil
}

// ReadMasterKeyFile reads a master key file (see ParseMasterKey for the
// format).
func ReadMasterKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: read master key file: %w", err)
	}
	key, err := ParseMasterKey(b)
	if err != nil {
		return nil, fmt.Errorf("keyring: master key file %s: %w", path, err)
	}
	return key, nil
}

// WriteMasterKeyFile generates a random master key into a new file at path
// (mode 0600, its directory created 0700), crash-safely, and returns it. It
// refuses to replace an existing file: that would lose the key of data
// encrypted under it.
func WriteMasterKeyFile(path string) ([]byte, error) {
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("keyring: %s already exists; not replacing a master key", path)
	}
	key := randomBytes(MasterKeySize)
	if err := writeFileAtomic(path, []byte(EncodeMasterKey(key)+"\n")); err != nil {
		return nil, fmt.Errorf("keyring: write master key file: %w", err)
	}
	return key, nil
}

// EncodeMasterKey returns key in the form ParseMasterKey and RIFFLE_MASTER_KEY
// take: standard base64.
func EncodeMasterKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// ParseMasterKey decodes a master key: standard base64 of 32 bytes,
// surrounding white space ignored, or exactly 32 raw bytes.
func ParseMasterKey(b []byte) ([]byte, error) {
	text := bytes.TrimSpace(b)
	if key, err := base64.StdEncoding.DecodeString(string(text)); err == nil {
		if len(key) != MasterKeySize {
			return nil, fmt.Errorf("base64 decodes to %d bytes, want %d", len(key), MasterKeySize)
		}
		return key, nil
	}
	if len(b) == MasterKeySize {
		return bytes.Clone(b), nil
	}
	return nil, fmt.Errorf("not base64 of %d bytes (nor %d raw bytes)", MasterKeySize, MasterKeySize)
}

// writeFileAtomic writes a new file crash-safely: temp file, fsync, rename,
// fsync of the directory. The key file is written with os, not the storage
// filesystem seam, because it needs a restrictive mode and only exists for
// servers on the real filesystem.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
