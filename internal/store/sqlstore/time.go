package sqlstore

import "time"

// Times are stored as integer microseconds since the Unix epoch, UTC: the
// same column type and ordering on both databases; 0 means "unset".

func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func tsPtr(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return ts(*t)
}

func fromTS(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

func fromTSPtr(us int64) *time.Time {
	if us == 0 {
		return nil
	}
	t := fromTS(us)
	return &t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
