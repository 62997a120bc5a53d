package agent

import "syscall"

// diskUsage is statfs of a mount point.
func diskUsage(mount string) (map[string]any, bool) {
	var s syscall.Statfs_t
	if err := syscall.Statfs(mount, &s); err != nil {
		return nil, false
	}
	bs := uint64(s.Bsize)
	total, free, avail := s.Blocks*bs, s.Bfree*bs, s.Bavail*bs
	u := map[string]any{"total_bytes": total, "free_bytes": free, "available_bytes": avail,
		"inodes_total": s.Files, "inodes_free": s.Ffree}
	if used := total - free; used+avail > 0 {
		// df's definition: used over what non-root users can use.
		u["used_percent"] = float64(int(float64(used)/float64(used+avail)*1000+0.5)) / 10
	}
	return u, true
}
