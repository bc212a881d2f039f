"""Tests of the eosweep Python client against a real coordinator.

clients/python/python_test.go starts the coordinators and a worker and runs
these with the environment below; without it they are skipped.

  EOSWEEP_COORDINATOR      a plaintext coordinator with a worker
  EOSWEEP_BIN              the eosweep binary (for trials.csv and boundary --format csv)
  EOSWEEP_TLS_COORDINATOR  a coordinator with TLS and a token, EOSWEEP_TLS_CA its CA,
                           EOSWEEP_TEST_TOKEN the token
"""

import math
import os
import subprocess
import tempfile
import unittest

import grpc
import pandas as pd

import eosweep

SPEC = """name: python-client
model: single
grid: {eta: {logspace: [0.5, 8, 8]}, x0: [1.5, 2]}
params: {steps: 300}
boundary: {refine: {rounds: 1, tolerance: 0.02}, metrics: [final_bias, {metric: max_eos_ratio, sense: rise, level: 1}]}
"""

ADDR = os.environ.get("EOSWEEP_COORDINATOR")
BIN = os.environ.get("EOSWEEP_BIN")


@unittest.skipUnless(ADDR and BIN, "SKIPPED: EOSWEEP_COORDINATOR and EOSWEEP_BIN not set (run through python_test.go)")
class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = eosweep.Client(ADDR)
        cls.sweep = cls.client.submit(SPEC)
        cls.updates = list(cls.client.watch(cls.sweep))

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def eosweep(self, *args):
        return subprocess.run([BIN, *args, "--coordinator", ADDR], check=True, capture_output=True, text=True).stdout

    def test_watch_follows_the_sweep_to_done(self):
        last = self.updates[-1]
        self.assertEqual(last.state, eosweep.v1.coordinator_pb2.SWEEP_STATE_DONE)
        self.assertEqual(last.progress.done, last.progress.total)
        self.assertGreater(last.progress.total, 16, "one refinement round adds trials to the 16 of the grid")
        done = [u.progress.done for u in self.updates]
        self.assertEqual(done, sorted(done), "progress never goes back")

    def test_submit_again_resumes_the_same_sweep(self):
        self.assertEqual(self.client.submit(SPEC), self.sweep)

    def test_sweeps(self):
        df = self.client.sweeps()
        row = df[df["id"] == self.sweep].iloc[0]
        self.assertEqual(row["name"], "python-client")
        self.assertEqual(row["state"], "done")
        self.assertEqual(row["done"], row["total"])
        self.assertEqual(row["round"], 1)
        self.assertTrue(math.isnan(row["eta_seconds"]), "no ETA once nothing is left")
        self.assertEqual(str(row["created"].tz), "UTC")

    def assertColumnsEqual(self, a, b, name):
        """Equal columns: booleans and strings exactly, numbers to 1e-12
        relative, NaN (absent) where the other is NaN."""
        if a.dtype == bool or b.dtype == bool:
            self.assertTrue((a.astype(bool) == b.astype(bool)).all(), name)
        elif a.dtype == object or b.dtype == object:
            self.assertEqual(list(a.fillna("")), list(b.fillna("")), name)
        else:
            close = (a - b).abs() <= 1e-12 * b.abs().clip(lower=1)
            self.assertTrue((close | (a.isna() & b.isna())).all(), f"{name}: {list(a)} vs {list(b)}")

    def test_trials_match_trials_csv(self):
        df = self.client.trials(self.sweep)
        self.assertEqual(len(df), self.updates[-1].progress.total)
        self.assertTrue((df["state"] == "done").all())
        self.assertEqual(len(df["trial"].unique()), len(df))
        with tempfile.TemporaryDirectory() as out:
            self.eosweep("report", self.sweep, "--out", out)
            csv = pd.read_csv(os.path.join(out, "trials.csv"), float_precision="round_trip")
        self.assertEqual(len(csv), len(df))
        shared = [c for c in df.columns if c in csv.columns]
        results = [f.name for f in eosweep.client._result_fields()]
        for c in results:
            self.assertIn(c, shared, f"result column {c} is not named as in trials.csv")
        keys = [c for c in ("eta", "x0") if c in shared]
        merged = df.merge(csv, on=keys, suffixes=("", "_csv"), validate="one_to_one")
        self.assertEqual(len(merged), len(df))
        for c in shared:
            if c in keys:
                continue
            a, b = merged[c], merged[c + "_csv"]
            self.assertColumnsEqual(a, b, c)

    def test_trajectories(self):
        tr = self.client.trajectories(self.sweep)
        self.assertEqual(list(tr.columns[:1]), ["trial"])
        self.assertEqual(list(tr.columns[-4:]), ["step", "loss", "bias", "sharpness"])
        self.assertEqual(tr["trial"].nunique(), self.updates[-1].progress.total)
        first = tr.groupby("trial")["step"].min()
        self.assertTrue((first == 0).all(), "every trajectory starts at step 0")

    def test_boundary_matches_cli_csv(self):
        b = self.client.boundary(self.sweep)
        from io import StringIO
        cli = pd.read_csv(StringIO(self.eosweep("boundary", self.sweep, "--format", "csv")), float_precision="round_trip")
        self.assertEqual(list(b.columns), list(cli.columns))
        self.assertEqual(len(b), 4, "two groups (x0), each with the boundaries of two metrics")
        b = b.sort_values(["x0", "metric"]).reset_index(drop=True)
        cli = cli.sort_values(["x0", "metric"]).reset_index(drop=True)
        for c in b.columns:
            self.assertColumnsEqual(b[c], cli[c], c)
        self.assertEqual(list(b["metric"]), ["final_bias", "max_eos_ratio"] * 2)
        self.assertEqual(list(b["sense"]), ["drop", "rise"] * 2)
        self.assertTrue(b["level"].iloc[0::2].isna().all() and (b["level"].iloc[1::2] == 1).all())
        self.assertTrue(set(b["fit"]) <= {"mle", "separated", "none"})
        theory = 8 / b["x0"] ** 2
        self.assertTrue(((b["theory"] - theory).abs() < 1e-12).all())

    def test_refusals_name_the_field(self):
        with self.assertRaises(grpc.RpcError) as e:
            self.client.sweep("")
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("sweep_id: required", e.exception.details())
        with self.assertRaises(grpc.RpcError) as e:
            self.client.submit("model: single\ngrid: {eta: [-1]}\n")
        self.assertEqual(e.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("eta", e.exception.details())
        with self.assertRaises(grpc.RpcError) as e:
            self.client.trials("no-such-sweep")
        self.assertEqual(e.exception.code(), grpc.StatusCode.NOT_FOUND)


TLS_ADDR = os.environ.get("EOSWEEP_TLS_COORDINATOR")


@unittest.skipUnless(TLS_ADDR, "SKIPPED: EOSWEEP_TLS_COORDINATOR not set (run through python_test.go)")
class SecureClientTest(unittest.TestCase):
    def test_token_and_tls(self):
        ca, token = os.environ["EOSWEEP_TLS_CA"], os.environ["EOSWEEP_TEST_TOKEN"]
        with eosweep.Client(TLS_ADDR, token=token, tls_ca=ca) as c:
            self.assertEqual(list(c.sweeps().columns[:4]), ["id", "name", "model", "state"])
        with eosweep.Client(TLS_ADDR, tls_ca=ca) as c, self.assertRaises(grpc.RpcError) as e:
            c.sweeps()
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        with eosweep.Client(TLS_ADDR, token="wrong", tls_ca=ca) as c, self.assertRaises(grpc.RpcError) as e:
            c.sweeps()
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_token_needs_tls(self):
        with self.assertRaisesRegex(ValueError, "token: a bearer token needs TLS"):
            eosweep.Client(TLS_ADDR, token="t")


if __name__ == "__main__":
    unittest.main()
