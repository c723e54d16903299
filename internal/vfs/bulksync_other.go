//go:build !linux

package vfs

// OpenBulkSyncer implements BulkSyncFS: only Linux has syncfs(2).
func (osFS) OpenBulkSyncer(string) (BulkSyncer, error) { return nil, errUnsupportedBulkSync }
