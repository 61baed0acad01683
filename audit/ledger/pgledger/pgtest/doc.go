// Package pgtest starts throwaway PostgreSQL servers for tests: initdb into
// a temporary directory and a postmaster on a free loopback port, run as an
// unprivileged user when the tests run as root (nobody), its socket in the
// temporary directory, listening on 127.0.0.1 only, with a small memory
// footprint and fsync on. The server is a child of the test binary and dies
// with it; Close stops it and removes the directory.
//
// One cluster serves a whole test binary (Main, from TestMain) and each test
// gets a fresh database of its own (Database). A test that stops and
// restarts its server starts a cluster of its own (Start).
//
// The server binaries come from the system's PostgreSQL package (Debian:
// apt-get install -y postgresql); when they are missing, Start fails and
// says so: tests that need a database fail, they never skip.
//
// The package holds no data but what tests write, talks only to loopback,
// and must never be imported outside tests.
package pgtest
