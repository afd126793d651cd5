package im_test

import (
	"testing"
)

// TestStatusFollowsTheServersLife: before Run nothing is running; while
// serving, the views are alive at the log's position and a bound session
// is counted; after shutdown the server no longer reports running.
func TestStatusFollowsTheServersLife(t *testing.T) {
	e := newEnv(t)
	e.addUser("alice")
	srv := e.start()
	st := srv.Status()
	if !st.Running || !st.ViewsAlive || st.Applied == 0 || st.Sessions != 0 {
		t.Fatalf("Status once ready: %+v", st)
	}
	a := e.login("alice", "phone")
	a.online(0)
	e.eventually("the session to count", func() bool { return srv.Status().Sessions == 1 })
	if got, before := srv.Status().Applied, st.Applied; got <= before {
		t.Errorf("applied position %d did not move past %d after a session started", got, before)
	}
	if err := e.stop(); err != nil {
		t.Fatal(err)
	}
	if st := srv.Status(); st.Running || st.ViewsAlive || st.Sessions != 0 {
		t.Errorf("Status after shutdown: %+v", st)
	}
}
