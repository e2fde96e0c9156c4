package objectlock_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/tessera-store/tessera/s3api/objectlock"
)

func ExampleCheck() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg, err := objectlock.ParseConfig([]byte(`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>
<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule></ObjectLockConfiguration>`))
	if err != nil {
		fmt.Println(err)
		return
	}
	mode, until, _ := cfg.DefaultUntil(now)
	ret := &objectlock.Retention{Mode: mode, Until: until}
	fmt.Println(mode, until.Format(time.DateOnly))

	err = objectlock.Check(now.Add(24*time.Hour), ret, false, false)
	fmt.Println(errors.Is(err, objectlock.ErrLocked))
	fmt.Println(objectlock.Check(now.Add(24*time.Hour), ret, false, true))
	fmt.Println(objectlock.Check(now.AddDate(0, 0, 31), ret, false, false))
	// Output:
	// GOVERNANCE 2026-01-31
	// true
	// <nil>
	// <nil>
}
