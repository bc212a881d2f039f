"""Generated protobuf and gRPC code of eosweep.v1 (do not edit; see buf.gen.python.yaml)."""
