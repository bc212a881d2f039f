"""A Python client for the eosweep coordinator.

    import eosweep
    c = eosweep.Client("127.0.0.1:7870")               # token=..., tls_ca=... for a secured one
    sweep = c.submit(open("examples/quick.yaml").read())
    for s in c.watch(sweep): print(s.progress.done, "/", s.progress.total)
    c.trials(sweep)                                    # pandas.DataFrame, one row per trial

Needs the grpcio, protobuf (>= 3.20) and pandas packages (Debian 12:
python3-grpcio, python3-protobuf, python3-pandas); the generated code in
eosweep/v1 is checked in, so no protoc is needed. Works from the repository
with PYTHONPATH=clients/python.
"""

from eosweep.client import Client, TERMINAL_SWEEP_STATES

__all__ = ["Client", "TERMINAL_SWEEP_STATES"]
