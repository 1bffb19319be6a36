#!/usr/bin/env bats
# Terminals through --console-socket: the pty master is sent to the socket.

load helpers

function setup() {
	requires root
	setup_busybox
	SOCK="$BATS_TEST_TMPDIR/tty.sock"
}

function teardown() {
	teardown_containers
	[ -z "$RECVTTY_PID" ] || kill "$RECVTTY_PID" 2>/dev/null || true
}

@test "terminal: run with a console socket gives the process a tty" {
	update_config '.process.terminal = true | .process.args = ["sh", "-c", "test -t 0 && test -t 1 && echo is-a-tty; read line; echo got:$line"]'
	start_recvtty "$SOCK" $'lc-input\n' > "$BATS_TEST_TMPDIR/tty.out"
	runc run --console-socket "$SOCK" lc-tty
	[ "$status" -eq 0 ]
	wait "$RECVTTY_PID"
	RECVTTY_PID=
	grep -q "is-a-tty" "$BATS_TEST_TMPDIR/tty.out"
	grep -q "got:lc-input" "$BATS_TEST_TMPDIR/tty.out"
}

@test "terminal: the process is a session leader with a controlling tty" {
	# /dev/tty opens only with a controlling terminal
	update_config '.process.terminal = true | .process.args = ["sh", "-c", "echo via-dev-tty > /dev/tty"]'
	start_recvtty "$SOCK" > "$BATS_TEST_TMPDIR/tty2.out"
	runc run --console-socket "$SOCK" lc-ctty
	[ "$status" -eq 0 ]
	wait "$RECVTTY_PID"
	RECVTTY_PID=
	grep -q via-dev-tty "$BATS_TEST_TMPDIR/tty2.out"
}

@test "terminal: exec -t with a console socket" {
	runc_bg run -d lc-extty
	[ "$status" -eq 0 ]
	start_recvtty "$SOCK" > "$BATS_TEST_TMPDIR/tty.out"
	runc exec -t --console-socket "$SOCK" lc-extty sh -c 'test -t 1 && echo exec-tty; tty'
	[ "$status" -eq 0 ]
	wait "$RECVTTY_PID"
	RECVTTY_PID=
	grep -q exec-tty "$BATS_TEST_TMPDIR/tty.out"
	grep -q "/dev/pts/" "$BATS_TEST_TMPDIR/tty.out"
}

@test "terminal: a tty without a console socket is refused cleanly" {
	update_config '.process.terminal = true'
	runc_bg create lc-nosock
	[ "$status" -eq 1 ]
	[[ "$output" == *"console-socket"* ]]
	assert_no_leftovers lc-nosock
}

@test "terminal: a console socket nobody listens on is an error" {
	update_config '.process.terminal = true'
	runc_bg create --console-socket "$BATS_TEST_TMPDIR/nobody.sock" lc-badsock
	[ "$status" -eq 1 ]
	[[ "$output" == *"console socket"* ]]
	assert_no_leftovers lc-badsock
}

@test "terminal: run in the foreground without a console socket proxies the pty" {
	update_config '.process.terminal = true | .process.args = ["sh", "-c", "read x; echo got:$x; test -t 1 && echo tty-yes; exit 5"]'
	run bash -c "echo lc-proxy | '$SKUA_BIN' --root '$ROOT' run lc-proxy"
	[ "$status" -eq 5 ]
	[[ "$output" == *"got:lc-proxy"* ]]
	[[ "$output" == *"tty-yes"* ]]
	assert_no_leftovers lc-proxy
	! ls -d /tmp/skua-tty.* 2>/dev/null | grep -q .
}

@test "terminal: exec -t without a console socket proxies the pty" {
	runc_bg run -d lc-exproxy
	[ "$status" -eq 0 ]
	run bash -c "echo lc-in | '$SKUA_BIN' --root '$ROOT' exec -t lc-exproxy sh -c 'read x; echo got:\$x; test -t 0 && echo tty-yes; exit 6'"
	[ "$status" -eq 6 ]
	[[ "$output" == *"got:lc-in"* ]]
	[[ "$output" == *"tty-yes"* ]]
}
