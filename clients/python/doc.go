// Package python tests the Python client (clients/python/eosweep) against
// real coordinator processes with Debian's python3-grpcio, python3-protobuf
// and python3-pandas; it prints SKIPPED where they are missing.
package python
