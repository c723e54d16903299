//go:build !unix

package loadgen

import "time"

// selfCPU is not measured here.
func selfCPU() (time.Duration, bool) { return 0, false }
