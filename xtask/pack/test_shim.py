"""Tests of the XSOAR shim (xtask/pack/shim.py) under a stand-in of the `demisto` module.

Run: python3 xtask/pack/test_shim.py (Python 3.11, stdlib only). It prints `N passed, M failed`.

The stand-in is written here from the public documentation of the `demisto` object (the calls
the shim uses: command, args, params, results, getIntegrationContext / setIntegrationContext,
getIntegrationContextVersioned / setIntegrationContextVersioned, getLastRun / setLastRun,
incidents, investigation). It records every call, so a test can compare what the server would
have received with what the binary prints when run directly with the same request.

The binaries are the real debug builds: $SOAR_TEST_BIN_DIR, else <repo>/target/debug
(`cargo xtask pack-check` builds them and sets it). A few tests (files, fetch, fields the
protocol does not have yet) use a stand-in binary, a Python script printing a set response,
because no real command gives those without a Microsoft endpoint.
When $SOAR_TEST_PACKS_DIR is set (pack-check sets it), the written packs are checked too.
"""
import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import types
import unittest
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN_DIR = os.environ.get("SOAR_TEST_BIN_DIR") or os.path.join(ROOT, "target", "debug")
SHIM_SOURCE = open(os.path.join(HERE, "shim.py"), encoding="utf-8").read()
# Every Microsoft host the binaries call, sent to a closed loopback port: "no reachable endpoint".
UNREACHABLE = ",".join(
    "{}=127.0.0.1:1".format(h)
    for h in ("login.microsoftonline.com", "graph.microsoft.com", "management.azure.com")
)


class FakeDemisto(types.ModuleType):
    """A stand-in of the `demisto` object: set inputs, recorded outputs."""

    def __init__(self, command, args=None, params=None, context=None, version=None,
                 last_run=None, versioned=True):
        super().__init__("demistomock")
        self._command = command
        self._args = args or {}
        self._params = params or {}
        self.context = context or {}
        self.version = version
        self._last_run = last_run or {}
        self.entries = []
        self.calls = []
        if versioned:
            self.getIntegrationContextVersioned = self._get_versioned
            self.setIntegrationContextVersioned = self._set_versioned

    def command(self):
        return self._command

    def args(self):
        return self._args

    def params(self):
        return self._params

    def results(self, entry):
        self.entries.append(entry)

    def investigation(self):
        return {"id": "inv7"}

    def getIntegrationContext(self):
        return self.context

    def setIntegrationContext(self, context):
        self.calls.append(("setIntegrationContext", context))
        self.context = context

    def _get_versioned(self, refresh=False):
        return {"context": self.context, "version": self.version}

    def _set_versioned(self, context, version=-1, sync=False):
        self.calls.append(("setIntegrationContextVersioned", context, version))
        self.context = context

    def getLastRun(self):
        return self._last_run

    def setLastRun(self, obj):
        self.calls.append(("setLastRun", obj))

    def incidents(self, incidents):
        self.calls.append(("incidents", incidents))


def run_shim(binary, fake, bin_dir=None):
    """Runs the shim for `binary` as the server does: `demisto` is a global of the script."""
    source = SHIM_SOURCE.replace("{{NAME}}", "Test").replace("{{BINARY}}", binary)
    old = os.environ.get("SOAR_BIN_DIR")
    os.environ["SOAR_BIN_DIR"] = bin_dir or BIN_DIR
    try:
        namespace = {"__name__": "builtins", "demisto": fake}
        exec(compile(source, "shim.py", "exec"), namespace)  # noqa: S102 -- the code under test
    finally:
        if old is None:
            del os.environ["SOAR_BIN_DIR"]
        else:
            os.environ["SOAR_BIN_DIR"] = old
    return fake


def run_direct(binary, request):
    done = subprocess.run([os.path.join(BIN_DIR, binary)], input=json.dumps(request).encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False)
    return json.loads(done.stdout)


class RealBinaries(unittest.TestCase):
    def setUp(self):
        self.old_map = os.environ.get("SOAR_HOST_MAP")
        os.environ["SOAR_HOST_MAP"] = UNREACHABLE

    def tearDown(self):
        if self.old_map is None:
            os.environ.pop("SOAR_HOST_MAP", None)
        else:
            os.environ["SOAR_HOST_MAP"] = self.old_map

    def same_as_direct(self, binary, command, args=None, params=None, context=None, version=None):
        fake = run_shim(binary, FakeDemisto(command, args, params, context, version))
        request = {"command": command, "args": args or {}, "params": params or {},
                   "integration_context": context or {}}
        if version is not None:
            request["context_version"] = version
        direct = run_direct(binary, request)
        self.assertEqual(fake.entries, direct["entries"])
        return fake, direct

    def test_an_unknown_command_is_the_binarys_error_entry(self):
        fake, _ = self.same_as_direct("msgraph-user", "msgraph-user-no-such-command")
        self.assertEqual(len(fake.entries), 1)
        self.assertEqual(fake.entries[0]["Type"], 4)
        self.assertIn("msgraph-user-no-such-command", json.dumps(fake.entries[0]["Contents"]))

    def test_a_missing_argument_is_the_binarys_error_entry(self):
        fake, _ = self.same_as_direct("msgraph-user", "msgraph-user-get", args={})
        self.assertEqual([e["Type"] for e in fake.entries], [4])
        self.assertIn("user", json.dumps(fake.entries[0]["Contents"]))

    def test_no_reachable_endpoint_is_the_binarys_error_entry(self):
        params = {"self_deployed": True, "creds_tenant_id": {"identifier": "", "password": "t-1"},
                  "creds_auth_id": {"identifier": "", "password": "c-1"},
                  "creds_enc_key": {"identifier": "", "password": "s-1"}}
        for binary, command, args in (
            ("msgraph-user", "msgraph-user-get", {"user": "a@b.c"}),
            ("azure-storage", "azure-storage-account-list", {"subscription_id": "s", "resource_group_name": "r"}),
        ):
            with self.subTest(binary=binary):
                p = dict(params)
                if binary == "azure-storage":
                    p = {"auth_type": "Client Credentials", "app_id": "c-1", "tenant_id": "t-1",
                         "credentials": {"identifier": "", "password": "s-1"},
                         "subscription_id": "sub-1", "resource_group_name": "rg-1"}
                fake, _ = self.same_as_direct(binary, command, args=args, params=p)
                self.assertTrue(fake.entries)
                self.assertEqual(fake.entries[-1]["Type"], 4)
                self.assertIn("connect", fake.entries[-1]["Contents"])

    def test_test_module_wording_is_the_binarys(self):
        fake, direct = self.same_as_direct("msgraph-user", "test-module")
        # Without credentials the binary answers with the reference's wording, unchanged.
        self.assertEqual(fake.entries[0]["Type"], 4)
        self.assertEqual(fake.entries[0]["Contents"], "ID must be provided.")

    def test_the_context_round_trips_with_its_version(self):
        fake = run_shim("msgraph-user", FakeDemisto(
            "msgraph-user-generate-login-url", args={"pkce": "true"},
            params={"self_deployed": True, "creds_auth_id": {"identifier": "", "password": "c-1"},
                    "creds_tenant_id": {"identifier": "", "password": "t-1"},
                    "creds_auth_code": {"identifier": "", "password": "code-1"},
                    "redirect_uri": "https://localhost/cb"},
            context={"kept": "yes"}, version=41))
        writes = [c for c in fake.calls if c[0].startswith("setIntegrationContext")]
        self.assertEqual(len(writes), 1, fake.calls)
        name, context, version = writes[0]
        self.assertEqual(name, "setIntegrationContextVersioned")
        self.assertEqual(version, 41)
        self.assertEqual(context.get("kept"), "yes")
        self.assertNotEqual(context, {"kept": "yes"}, "the PKCE verifier was not stored")

    def test_a_server_without_versions_gets_setIntegrationContext(self):
        fake = run_shim("msgraph-user", FakeDemisto(
            "msgraph-user-generate-login-url", args={"pkce": "true"},
            params={"self_deployed": True, "creds_auth_id": {"identifier": "", "password": "c-1"},
                    "creds_tenant_id": {"identifier": "", "password": "t-1"},
                    "creds_auth_code": {"identifier": "", "password": "code-1"},
                    "redirect_uri": "https://localhost/cb"},
            context={"kept": "yes"}, versioned=False))
        self.assertEqual([c[0] for c in fake.calls], ["setIntegrationContext"])
        self.assertEqual(fake.context.get("kept"), "yes")

    def test_a_reset_context_is_written_back_empty(self):
        fake, direct = self.same_as_direct("msgraph-user", "msgraph-user-auth-reset",
                                           context={"access_token": "t"}, version=5)
        self.assertEqual(direct["integration_context"], {})
        self.assertEqual(fake.calls, [("setIntegrationContextVersioned", {}, 5)])

    def test_a_real_mirroring_answer_reaches_the_server_as_xsoar_builds_it(self):
        params = {"credentials": {"identifier": "app", "password": "s"}, "tenant_id": "t",
                  "subscriptionID": "s", "resourceGroupName": "rg", "workspaceName": "ws"}
        fake = run_shim("azure-sentinel", FakeDemisto("get-mapping-fields", params=params))
        direct = run_direct("azure-sentinel", {"command": "get-mapping-fields", "params": params})
        self.assertEqual(direct["mirror"]["kind"], "mapping")
        self.assertIn("Microsoft Sentinel Incident", direct["mirror"]["schemes"])
        # GetMappingFieldsResponse.extract_mapping(): the {type: fields} dict, as one result.
        self.assertEqual(fake.entries, direct["entries"] + [direct["mirror"]["schemes"]])

    def test_a_missing_binary_names_where_it_looked(self):
        empty = tempfile.mkdtemp()
        try:
            fake = run_shim("soar-rt-no-such-binary", FakeDemisto("test-module"), bin_dir=empty)
        finally:
            shutil.rmtree(empty)
        self.assertEqual(len(fake.entries), 1)
        self.assertEqual(fake.entries[0]["Type"], 4)
        self.assertIn(os.path.join(empty, "soar-rt-no-such-binary"), fake.entries[0]["Contents"])
        self.assertIn("$PATH", fake.entries[0]["Contents"])


class StandInBinary(unittest.TestCase):
    """The response paths no real command reaches offline, from a binary printing `response`."""

    def run_with(self, response, command, **kw):
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        path = os.path.join(folder, "stand-in")
        with open(path, "w", encoding="utf-8") as f:
            f.write("#!{}\nimport json, sys\nreq = json.load(sys.stdin)\n"
                    "open({!r}, 'w').write(json.dumps(req))\nprint(json.dumps({!r}))\n"
                    .format(sys.executable, os.path.join(folder, "request.json"), response))
        os.chmod(path, 0o755)
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            fake = run_shim("stand-in", FakeDemisto(command, **kw), bin_dir=folder)
        finally:
            os.chdir(cwd)
        with open(os.path.join(folder, "request.json"), encoding="utf-8") as f:
            return fake, json.load(f), folder

    def test_fetch_sends_last_run_and_applies_last_run_and_incidents(self):
        response = {"entries": [], "last_run": {"since": "2"}, "incidents": [{"name": "a"}]}
        fake, request, _ = self.run_with(response, "fetch-incidents", last_run={"since": "1"})
        self.assertEqual(request["last_run"], {"since": "1"})
        self.assertEqual(fake.calls, [("setLastRun", {"since": "2"}), ("incidents", [{"name": "a"}])])

    def test_other_commands_send_no_last_run(self):
        _, request, _ = self.run_with({"entries": []}, "x-cmd", args={"a": "1"}, params={"p": 2},
                                      context={"c": 1}, version=3)
        self.assertEqual(request, {"command": "x-cmd", "args": {"a": "1"}, "params": {"p": 2},
                                   "integration_context": {"c": 1}, "context_version": 3})

    def test_a_file_entry_is_written_as_fileResult_writes_it(self):
        entry = {"Type": 3, "ContentsFormat": "text", "Contents": "", "File": "r.txt",
                 "FileID": "f-1", "FileData": base64.b64encode(b"hello").decode()}
        fake, _, folder = self.run_with({"entries": [entry]}, "x-file")
        with open(os.path.join(folder, "inv7_f-1"), "rb") as f:
            self.assertEqual(f.read(), b"hello")
        self.assertEqual(fake.entries, [{k: v for k, v in entry.items() if k != "FileData"}])

    def test_unknown_top_level_fields_and_mirror_kinds_are_left_alone(self):
        entry = {"Type": 1, "ContentsFormat": "text", "Contents": "ok"}
        fake, _, _ = self.run_with({"entries": [entry], "mirror": {"kind": "later"}, "future": 1}, "x-cmd")
        self.assertEqual(fake.entries, [entry])
        self.assertEqual(fake.calls, [])

    def test_a_scheduled_entry_reaches_the_server_with_its_polling_keys(self):
        entry = {"Type": 1, "ContentsFormat": "markdown", "Contents": "Waiting", "HumanReadable": None,
                 "EntryContext": {}, "PollingCommand": "x-isolate", "NextRun": "30",
                 "PollingArgs": {"action_id": "a1"}, "Timeout": "600"}
        fake, request, _ = self.run_with({"entries": [entry]}, "x-isolate", args={"action_id": "a1"})
        self.assertEqual(request["args"], {"action_id": "a1"})
        self.assertEqual(fake.entries, [entry])

    def test_mirroring_args_pass_through_and_answers_become_xsoar_values(self):
        args = {"remoteId": "r1", "data": {"title": "t"}, "delta": {"severity": 3}, "status": 2,
                "incidentChanged": True, "entries": []}
        _, request, _ = self.run_with({"entries": [], "mirror": {"kind": "updated", "id": "r1"}},
                                      "update-remote-system", args=args)
        self.assertEqual(request["args"], args)
        close = {"Type": 1, "ContentsFormat": "json", "Contents": {"dbotIncidentClose": True}}
        cases = [
            ({"kind": "modified-ids", "ids": ["1", "2"]},
             {"Contents": ["1", "2"], "Type": 1, "ContentsFormat": "json"}),
            ({"kind": "remote-data", "object": {"id": "1"}, "entries": [close]}, [{"id": "1"}, close]),
            ({"kind": "remote-data", "object": {}, "entries": []}, []),
            ({"kind": "updated", "id": "r1"}, "r1"),
            ({"kind": "mapping", "schemes": {"Incident": {"title": "t"}}}, {"Incident": {"title": "t"}}),
        ]
        for mirror, expected in cases:
            fake, _, _ = self.run_with({"entries": [], "mirror": mirror}, "get-remote-data")
            self.assertEqual(fake.entries, [expected], mirror["kind"])


@unittest.skipUnless(os.environ.get("SOAR_TEST_PACKS_DIR"), "no packs written ($SOAR_TEST_PACKS_DIR)")
class WrittenPacks(unittest.TestCase):
    def integrations(self):
        packs = os.path.join(os.environ["SOAR_TEST_PACKS_DIR"], "Packs")
        found = []
        for pack in sorted(os.listdir(packs)):
            for name in os.listdir(os.path.join(packs, pack, "Integrations")):
                found.append((os.path.join(packs, pack), name))
        self.assertTrue(found)
        return found

    def test_metadata_and_files(self):
        for pack, name in self.integrations():
            with self.subTest(pack=pack):
                with open(os.path.join(pack, "pack_metadata.json"), encoding="utf-8") as f:
                    meta = json.load(f)
                self.assertEqual(meta["support"], "community")
                self.assertEqual(meta["currentVersion"], "1.0.0")
                self.assertEqual(meta["marketplaces"], ["xsoar", "marketplacev2"])
                self.assertEqual(len(meta["categories"]), 1)
                folder = os.path.join(pack, "Integrations", name)
                for suffix in (".yml", ".py", "_description.md", "_image.png"):
                    self.assertTrue(os.path.isfile(os.path.join(folder, name + suffix)), suffix)
                with open(os.path.join(folder, name + ".yml"), encoding="utf-8") as f:
                    self.assertIn("\n  script: ''\n  type: python\n  subtype: python3\n", f.read())
                with open(os.path.join(folder, name + ".py"), encoding="utf-8") as f:
                    self.assertNotIn("{{", f.read())

    def test_each_written_shim_runs_its_own_binary(self):
        for pack, name in self.integrations():
            with open(os.path.join(pack, "Integrations", name, name + ".py"), encoding="utf-8") as f:
                source = f.read()
            binary = source.split('BINARY = "', 1)[1].split('"', 1)[0]
            fake = FakeDemisto("soar-rt-unknown-command")
            os.environ["SOAR_BIN_DIR"] = BIN_DIR
            try:
                exec(compile(source, name + ".py", "exec"), {"__name__": "builtins", "demisto": fake})  # noqa: S102
            finally:
                del os.environ["SOAR_BIN_DIR"]
            direct = run_direct(binary, {"command": "soar-rt-unknown-command", "args": {}, "params": {},
                                         "integration_context": {}})
            self.assertEqual(fake.entries, direct["entries"], name)
            self.assertEqual(fake.entries[0]["Type"], 4)

    def test_the_image_is_a_valid_120x50_png(self):
        for pack, name in self.integrations():
            with open(os.path.join(pack, "Integrations", name, name + "_image.png"), "rb") as f:
                png = f.read()
            self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
            pos, idat, chunks = 8, b"", []
            while pos < len(png):
                (length,) = struct.unpack(">I", png[pos:pos + 4])
                kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
                (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
                self.assertEqual(crc, zlib.crc32(kind + data), kind)
                chunks.append(kind)
                if kind == b"IHDR":
                    self.assertEqual(struct.unpack(">II", data[:8]), (120, 50))
                if kind == b"IDAT":
                    idat += data
                pos += 12 + length
            self.assertEqual(chunks, [b"IHDR", b"IDAT", b"IEND"])
            self.assertEqual(len(zlib.decompress(idat)), 50 * (1 + 120 * 3))


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=1).result
    failed = len(result.failures) + len(result.errors)
    print("{} passed, {} failed".format(result.testsRun - failed - len(result.skipped), failed))
    sys.exit(1 if failed else 0)
