package proctest

import (
	"fmt"
	"os"
	"strings"
)

// Alive reports whether pid is a running process. A zombie counts as gone:
// it has exited and waits only to be reaped. (Linux: it reads /proc.)
func Alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
