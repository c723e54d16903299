package engine

import (
	"cmp"
	"context"
	"time"
)

// Account settings, account limits and the per-stream settings that go with
// them: the maximum record size and the warm throughput of on-demand streams.
// All of it lives in the persisted metadata.

// DefaultOnDemandStreamLimit is the most ON_DEMAND streams an account may
// have in a region, Kinesis's default quota.
const DefaultOnDemandStreamLimit = 50

// Bounds of UpdateMaxRecordSize, in KiB.
const (
	MinMaxRecordSizeKiB = 1024
	MaxMaxRecordSizeKiB = 10240
)

// MaxWarmThroughputMiBps is the most warm throughput an on-demand stream may
// be scaled to by default (10 GiB/s).
const MaxWarmThroughputMiBps = 10 << 10

// CommitmentMinDuration is how long a minimum throughput billing commitment
// lasts at least once enabled.
const CommitmentMinDuration = 24 * time.Hour

// Statuses of the minimum throughput billing commitment.
const (
	CommitmentEnabled     = "ENABLED"
	CommitmentDisabled    = "DISABLED"
	CommitmentEndingLater = "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
)

// accountMeta holds the settings of one account in one region (Kinesis is
// regional, so are its account settings).
type accountMeta struct {
	Account string
	Region  string
	// Commitment is the minimum throughput billing commitment. A disable
	// asked for before EarliestEndMillis leaves the status
	// ENABLED_UNTIL_EARLIEST_ALLOWED_END, which is read as DISABLED from
	// EarliestEndMillis on (see commitment), so no timer has to end it.
	Commitment commitmentMeta
}

type commitmentMeta struct {
	Status            string `json:",omitempty"`
	StartedMillis     int64  `json:",omitempty"`
	EndedMillis       int64  `json:",omitempty"`
	EarliestEndMillis int64  `json:",omitempty"`
}

// DescribeAccountSettingsInput is the input of DescribeAccountSettings.
type DescribeAccountSettingsInput struct{}

// DescribeAccountSettingsOutput is the output of DescribeAccountSettings.
type DescribeAccountSettingsOutput struct {
	MinimumThroughputBillingCommitment *MinimumThroughputBillingCommitmentOutput
}

// MinimumThroughputBillingCommitmentOutput is the state of an account's
// minimum throughput billing commitment.
type MinimumThroughputBillingCommitmentOutput struct {
	Status               string
	StartedAt            time.Time
	EndedAt              time.Time
	EarliestAllowedEndAt time.Time
}

// UpdateAccountSettingsInput is the input of UpdateAccountSettings.
type UpdateAccountSettingsInput struct {
	MinimumThroughputBillingCommitment *MinimumThroughputBillingCommitmentInput
}

// MinimumThroughputBillingCommitmentInput is the commitment status asked for.
type MinimumThroughputBillingCommitmentInput struct {
	Status string
}

// UpdateAccountSettingsOutput is the output of UpdateAccountSettings.
type UpdateAccountSettingsOutput struct {
	MinimumThroughputBillingCommitment *MinimumThroughputBillingCommitmentOutput
}

// DescribeLimitsInput is the input of DescribeLimits.
type DescribeLimitsInput struct{}

// DescribeLimitsOutput is the output of DescribeLimits.
type DescribeLimitsOutput struct {
	ShardLimit               int
	OpenShardCount           int
	OnDemandStreamCount      int
	OnDemandStreamCountLimit int
}

// UpdateMaxRecordSizeInput is the input of UpdateMaxRecordSize.
type UpdateMaxRecordSizeInput struct {
	StreamARN          string
	MaxRecordSizeInKiB *int
}

// UpdateStreamWarmThroughputInput is the input of UpdateStreamWarmThroughput.
type UpdateStreamWarmThroughputInput struct {
	StreamRef
	WarmThroughputMiBps *int
}

// UpdateStreamWarmThroughputOutput is the output of
// UpdateStreamWarmThroughput.
type UpdateStreamWarmThroughputOutput struct {
	StreamARN      string
	StreamName     string
	WarmThroughput *WarmThroughputObject
}

// WarmThroughputObject is the warm throughput of an on-demand stream: the
// target it is scaling to and what it handles now.
type WarmThroughputObject struct {
	TargetMiBps  int
	CurrentMiBps int
}

// account returns the settings of the caller's account, nil if it never
// changed them. Callers hold e.mu.
func (e *Engine) account(c Caller) *accountMeta {
	for _, a := range e.meta.Accounts {
		if a.Account == c.Account && a.Region == c.Region {
			return a
		}
	}
	return nil
}

// commitment returns the account's commitment as of now: a disable that was
// waiting for the earliest allowed end has taken effect once that has
// passed.
func commitment(a *accountMeta, now time.Time) commitmentMeta {
	if a == nil {
		return commitmentMeta{}
	}
	cm := a.Commitment
	if cm.Status == CommitmentEndingLater && now.UnixMilli() >= cm.EarliestEndMillis {
		cm.Status = CommitmentDisabled
		cm.EndedMillis = cm.EarliestEndMillis
	}
	return cm
}

// committed reports whether the account has the commitment in force, which
// warm throughput needs.
func (cm commitmentMeta) committed() bool {
	return cm.Status == CommitmentEnabled || cm.Status == CommitmentEndingLater
}

func (cm commitmentMeta) output() *MinimumThroughputBillingCommitmentOutput {
	out := &MinimumThroughputBillingCommitmentOutput{Status: cmp.Or(cm.Status, CommitmentDisabled)}
	if cm.StartedMillis != 0 {
		out.StartedAt = time.UnixMilli(cm.StartedMillis)
	}
	if cm.EndedMillis != 0 {
		out.EndedAt = time.UnixMilli(cm.EndedMillis)
	}
	if cm.EarliestEndMillis != 0 {
		out.EarliestAllowedEndAt = time.UnixMilli(cm.EarliestEndMillis)
	}
	return out
}

// DescribeAccountSettings reports the caller's account settings.
func (e *Engine) DescribeAccountSettings(ctx context.Context, in *DescribeAccountSettingsInput) (*DescribeAccountSettingsOutput, error) {
	c := e.caller(ctx)
	if err := e.throttle(c, "DescribeAccountSettings", ""); err != nil { // limits.go
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	cm := commitment(e.account(c), e.cfg.Now())
	return &DescribeAccountSettingsOutput{MinimumThroughputBillingCommitment: cm.output()}, nil
}

// UpdateAccountSettings enables or disables the caller's minimum throughput
// billing commitment. A commitment lasts at least CommitmentMinDuration: a
// disable before then is scheduled for the earliest allowed end, and an
// enable before that end cancels it.
func (e *Engine) UpdateAccountSettings(ctx context.Context, in *UpdateAccountSettingsInput) (*UpdateAccountSettingsOutput, error) {
	c := e.caller(ctx)
	if err := e.throttle(c, "UpdateAccountSettings", ""); err != nil { // limits.go
		return nil, err
	}
	if in.MinimumThroughputBillingCommitment == nil {
		return nil, errorf(KindValidation, "1 validation error detected: Value null at 'minimumThroughputBillingCommitment' "+
			"failed to satisfy constraint: Member must not be null")
	}
	want := in.MinimumThroughputBillingCommitment.Status
	if want != CommitmentEnabled && want != CommitmentDisabled {
		return nil, errorf(KindValidation, "1 validation error detected: Value '%s' at 'minimumThroughputBillingCommitment.status' "+
			"failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]", want)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errClosed
	}
	now := e.cfg.Now()
	a := e.account(c)
	if a == nil {
		a = &accountMeta{Account: c.Account, Region: c.Region}
		e.meta.Accounts = append(e.meta.Accounts, a)
	}
	cm := commitment(a, now)
	switch {
	case want == CommitmentEnabled && cm.Status == CommitmentEndingLater:
		cm.Status = CommitmentEnabled
	case want == CommitmentEnabled && !cm.committed():
		cm = commitmentMeta{
			Status:            CommitmentEnabled,
			StartedMillis:     now.UnixMilli(),
			EarliestEndMillis: now.Add(CommitmentMinDuration).UnixMilli(),
		}
	case want == CommitmentDisabled && cm.Status == CommitmentEnabled:
		if now.UnixMilli() < cm.EarliestEndMillis {
			cm.Status = CommitmentEndingLater
		} else {
			cm.Status, cm.EndedMillis = CommitmentDisabled, now.UnixMilli()
		}
	}
	a.Commitment = cm
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return &UpdateAccountSettingsOutput{MinimumThroughputBillingCommitment: cm.output()}, nil
}

// DescribeLimits reports the caller's shard quota and on-demand stream quota
// and how much of each is in use.
func (e *Engine) DescribeLimits(ctx context.Context, in *DescribeLimitsInput) (*DescribeLimitsOutput, error) {
	c := e.caller(ctx)
	if err := e.throttle(c, "DescribeLimits", ""); err != nil { // limits.go
		return nil, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return &DescribeLimitsOutput{
		ShardLimit:               e.cfg.ShardLimit,
		OpenShardCount:           e.openShardCount(c),
		OnDemandStreamCount:      e.onDemandStreamCount(c),
		OnDemandStreamCountLimit: DefaultOnDemandStreamLimit,
	}, nil
}

// onDemandStreamCount counts the caller's ON_DEMAND streams, the figure the
// on-demand stream quota applies to. Callers hold e.mu.
func (e *Engine) onDemandStreamCount(c Caller) int {
	n := 0
	for k, s := range e.streams {
		if k.account == c.Account && k.region == c.Region && s.meta.Mode == ModeOnDemand {
			n++
		}
	}
	return n
}

// UpdateMaxRecordSize sets the largest record a stream accepts, between 1 and
// 10 MiB. It applies to the next write.
func (e *Engine) UpdateMaxRecordSize(ctx context.Context, in *UpdateMaxRecordSizeInput) error {
	c := e.caller(ctx)
	if in.MaxRecordSizeInKiB == nil {
		return errorf(KindValidation, "1 validation error detected: Value null at 'maxRecordSizeInKiB' "+
			"failed to satisfy constraint: Member must not be null")
	}
	size := *in.MaxRecordSizeInKiB
	if err := checkMaxRecordSize(size); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.resolve(c, StreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return err
	}
	if st := s.meta.Status; st != StatusActive {
		return errStreamNotActive(s.meta.Name, s.meta.Account, st)
	}
	s.meta.MaxRecordSizeKiB = size
	return e.saveLocked()
}

// checkMaxRecordSize refuses a maximum record size outside 1..10 MiB.
func checkMaxRecordSize(size int) error {
	switch {
	case size < MinMaxRecordSizeKiB:
		return errorf(KindValidation, "1 validation error detected: Value '%d' at 'maxRecordSizeInKiB' "+
			"failed to satisfy constraint: Member must have value greater than or equal to %d", size, MinMaxRecordSizeKiB)
	case size > MaxMaxRecordSizeKiB:
		return errorf(KindValidation, "1 validation error detected: Value '%d' at 'maxRecordSizeInKiB' "+
			"failed to satisfy constraint: Member must have value less than or equal to %d", size, MaxMaxRecordSizeKiB)
	}
	return nil
}

// checkOnDemandQuota refuses a new ON_DEMAND stream past the account's
// limit, with the message AWS gives. Callers hold e.mu.
func (e *Engine) checkOnDemandQuota(c Caller) error {
	if n := e.onDemandStreamCount(c); n >= DefaultOnDemandStreamLimit {
		return errorf(KindLimitExceeded, "This request would exceed the limit on the number of On-Demand streams for the account %s in %s. "+
			"Current On-Demand streams count: %d. Limit: %d.", c.Account, c.Region, n, DefaultOnDemandStreamLimit)
	}
	return nil
}

// UpdateStreamWarmThroughput sets the write throughput an ON_DEMAND stream is
// kept ready for, in an account with the minimum throughput billing
// commitment. Like Kinesis, the stream is UPDATING for the configured update
// delay, during which CurrentMiBps still reports the former value.
func (e *Engine) UpdateStreamWarmThroughput(ctx context.Context, in *UpdateStreamWarmThroughputInput) (*UpdateStreamWarmThroughputOutput, error) {
	c := e.caller(ctx)
	if err := e.throttle(c, "UpdateStreamWarmThroughput", refName(in.StreamRef)); err != nil { // limits.go
		return nil, err
	}
	if in.WarmThroughputMiBps == nil {
		return nil, errorf(KindValidation, "1 validation error detected: Value null at 'warmThroughputMiBps' "+
			"failed to satisfy constraint: Member must not be null")
	}
	target := *in.WarmThroughputMiBps
	if target < 0 {
		return nil, errorf(KindValidation, "1 validation error detected: Value '%d' at 'warmThroughputMiBps' "+
			"failed to satisfy constraint: Member must have value greater than or equal to 0", target)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.resolve(c, in.StreamRef)
	if err != nil {
		return nil, err
	}
	sm := s.meta
	if sm.Status != StatusActive {
		return nil, errStreamNotActive(sm.Name, sm.Account, sm.Status)
	}
	if err := e.checkWarmThroughputLocked(sm, sm.Mode, target); err != nil {
		return nil, err
	}
	current := sm.WarmThroughputMiBps
	sm.WarmThroughputMiBps = target
	sm.WarmThroughputCurrentMiBps = current
	if e.cfg.UpdateStreamDelay > 0 && target != current {
		sm.Status = StatusUpdating
		e.after(s, e.cfg.UpdateStreamDelay, func() {
			sm.Status = StatusActive
			sm.WarmThroughputCurrentMiBps = sm.WarmThroughputMiBps
		})
	} else {
		sm.WarmThroughputCurrentMiBps = target
	}
	if err := e.saveLocked(); err != nil {
		return nil, err
	}
	return &UpdateStreamWarmThroughputOutput{
		StreamARN:      sm.arn(),
		StreamName:     sm.Name,
		WarmThroughput: e.warmThroughputLocked(sm),
	}, nil
}

// checkWarmThroughputLocked refuses a warm throughput for a stream that is
// (or is becoming) of the given mode, unless the stream is ON_DEMAND, the
// account has the billing commitment in force and the value is within the
// quota. UpdateStreamMode and CreateStream use it for their
// WarmThroughputMiBps too. Callers hold e.mu.
func (e *Engine) checkWarmThroughputLocked(sm *streamMeta, mode string, mibps int) error {
	if mode != ModeOnDemand {
		return errorf(KindInvalidArgument, "Warm throughput is only supported for streams in ON_DEMAND mode. "+
			"Stream %s under account %s is in %s mode.", sm.Name, sm.Account, mode)
	}
	a := e.account(Caller{Account: sm.Account, Region: sm.Region})
	if !commitment(a, e.cfg.Now()).committed() {
		return errorf(KindInvalidArgument, "Warm throughput requires MinimumThroughputBillingCommitment to be enabled "+
			"for account %s. Enable it with UpdateAccountSettings.", sm.Account)
	}
	if mibps > MaxWarmThroughputMiBps {
		return errorf(KindLimitExceeded, "Warm throughput of %d MiBps for stream %s under account %s exceeds the limit "+
			"of %d MiBps.", mibps, sm.Name, sm.Account, MaxWarmThroughputMiBps)
	}
	return nil
}

// warmThroughputLocked is the WarmThroughput DescribeStreamSummary reports:
// present only for ON_DEMAND streams in accounts with the billing commitment
// in force. While an update is in progress (the stream is UPDATING),
// CurrentMiBps is the value before it. Callers hold e.mu.
func (e *Engine) warmThroughputLocked(sm *streamMeta) *WarmThroughputObject {
	if sm.Mode != ModeOnDemand {
		return nil
	}
	if !commitment(e.account(Caller{Account: sm.Account, Region: sm.Region}), e.cfg.Now()).committed() {
		return nil
	}
	w := &WarmThroughputObject{TargetMiBps: sm.WarmThroughputMiBps, CurrentMiBps: sm.WarmThroughputMiBps}
	if sm.Status == StatusUpdating {
		w.CurrentMiBps = sm.WarmThroughputCurrentMiBps
	}
	return w
}
