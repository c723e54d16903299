package loadgen

import (
	"fmt"
	"time"
)

// cpuUse is the CPU time the server process and the load generator (this
// process) spent over a scenario. Both share the machine's cores, so it
// tells which side limits a throughput figure, and the server's time per
// record compares servers whatever the client costs.
type cpuUse struct {
	server, client time.Duration
	elapsed        time.Duration
	ok             bool // both were measured
}

// cpuMeter starts measuring; the returned function gives the use since.
// Without a server process (an external endpoint) nothing is measured.
func (r *runner) cpuMeter() func() cpuUse {
	if r.t.Proc == nil {
		return func() cpuUse { return cpuUse{} }
	}
	start := time.Now()
	s0, err0 := r.t.Proc.CPU()
	c0, ok0 := selfCPU()
	return func() cpuUse {
		s1, err1 := r.t.Proc.CPU()
		c1, ok1 := selfCPU()
		if err0 != nil || err1 != nil || !ok0 || !ok1 {
			return cpuUse{}
		}
		return cpuUse{server: s1 - s0, client: c1 - c0, elapsed: time.Since(start), ok: true}
	}
}

func perRecord(d time.Duration, records int64) float64 {
	return float64(d.Nanoseconds()) / 1000 / float64(records)
}

// note describes u for a scenario's note, or is empty.
func (u cpuUse) note(records int64) string {
	if !u.ok || records <= 0 {
		return ""
	}
	return fmt.Sprintf("; CPU per record: server %.2f µs, load generator %.2f µs (%.1f cores busy)",
		perRecord(u.server, records), perRecord(u.client, records), (u.server+u.client).Seconds()/u.elapsed.Seconds())
}

// result is the row "server CPU per record" of a scenario that handled
// records; from is the scenario's own result, whose failure it shares.
func (u cpuUse) result(key, what string, records int64, from Result) Result {
	res := Result{Key: key, Scenario: "server CPU per record, " + what, Unit: "µs", LowerIsBetter: true}
	switch {
	case from.Skipped != "":
		res.Skipped = from.Skipped
	case from.Failed():
		res.Err = "the scenario failed"
	case !u.ok || records <= 0:
		res.Skipped = "no server process to measure"
	default:
		res.Value = perRecord(u.server, records)
		res.Note = fmt.Sprintf("user and system time of the server process over %d records; the load generator's: %.2f µs per record",
			records, perRecord(u.client, records))
	}
	return res
}
