package server

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/riffle-streams/riffle/internal/config"
	"github.com/riffle-streams/riffle/internal/keyring"
)

// openKeyring loads the master key of encryption at rest from
// --master-key-file or RIFFLE_MASTER_KEY and returns an empty keyring under
// it; the engine fills it from its metadata and fails if the key is not the
// one the data was encrypted with.
//
// With no key configured, the keyring has none: StartStreamEncryption is
// refused with a message naming the settings, and data already encrypted
// fails the start. Generating a key silently (beside the data, or in the
// home directory) was the alternative; it was rejected because the operator
// would not know to keep and back up a file whose loss makes the data
// unreadable, and a key on the same disk as the data protects little.
// An in-memory server gets a random key, since its data dies with it.
//
// With --previous-master-key-file, data keys found wrapped under that key
// are re-wrapped under the current one (the engine persists them before
// serving); starting again with both flags is harmless.
func openKeyring(cfg config.Config, log *slog.Logger) (*keyring.Keyring, error) {
	key, origin, err := keyring.LoadMaster(keyring.MasterSource{
		File:     cfg.MasterKeyFile,
		Env:      os.Getenv(keyring.EnvMasterKey),
		DataDir:  cfg.DataDir,
		InMemory: cfg.InMemory,
	})
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if cfg.MasterKeyFile != "" {
		warnIfShared(log, cfg.MasterKeyFile, "master key file")
	}
	switch origin {
	case keyring.FromNone:
		if cfg.PreviousMasterKeyFile != "" {
			return nil, fmt.Errorf("master key: --previous-master-key-file needs the new key in --master-key-file or %s", keyring.EnvMasterKey)
		}
		log.Info("encryption at rest is off: no master key (--master-key-file or " + keyring.EnvMasterKey + ")")
		return keyring.NewWithoutMaster(), nil
	case keyring.FromDataDir:
		log.Warn("the master key of encryption at rest is stored beside the data (left by an older release); "+
			"move it elsewhere and pass --master-key-file or set "+keyring.EnvMasterKey,
			"path", filepath.Join(cfg.DataDir, keyring.MasterKeyFileName))
	}
	kr, err := keyring.New(key)
	if err != nil {
		return nil, fmt.Errorf("master key from %s: %w", origin, err)
	}
	if cfg.PreviousMasterKeyFile != "" {
		prev, err := keyring.ReadMasterKeyFile(cfg.PreviousMasterKeyFile)
		if err != nil {
			return nil, fmt.Errorf("previous master key: %w", err)
		}
		if err := kr.SetPrevious(prev); err != nil {
			return nil, fmt.Errorf("previous master key: %w", err)
		}
	}
	return kr, nil
}

// logRotation reports a master key rotation done by engine.Open.
func logRotation(kr *keyring.Keyring, log *slog.Logger) {
	if kr.Rewrapped() {
		log.Warn("master key rotated: the data keys are now wrapped under the new master key; " +
			"the previous key is no longer needed once this data directory's backups are rotated too")
	}
}
