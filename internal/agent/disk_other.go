//go:build !linux

package agent

func diskUsage(string) (map[string]any, bool) { return nil, false }
