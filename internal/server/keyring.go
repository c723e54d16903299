package server

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/riffle-streams/riffle/internal/config"
	"github.com/riffle-streams/riffle/internal/keyring"
)

// openKeyring loads the master key of encryption at rest from
// --master-key-file, RIFFLE_MASTER_KEY, or the data directory (generated the
// first time), and returns an empty keyring under it; the engine fills it
// from its metadata and fails if the key is not the one the data was
// encrypted with.
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
	if origin == keyring.FromDataDir {
		log.Warn("the master key of encryption at rest is stored beside the data; pass --master-key-file or set "+
			keyring.EnvMasterKey+" to keep it elsewhere", "path", cfg.DataDir+"/"+keyring.MasterKeyFileName)
	}
	kr, err := keyring.New(key)
	if err != nil {
		return nil, fmt.Errorf("master key from %s: %w", origin, err)
	}
	return kr, nil
}
