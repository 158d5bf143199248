"""{{NAME}}: the Cortex XSOAR side of the soar-rt integration `{{BINARY}}`.

Written for soar-rt (xtask/pack/shim.py, copied into each pack by `cargo xtask pack`).

This script only carries data between the `demisto` object and the `{{BINARY}}` binary:
it builds one JSON request (command, args, params, integration context and its version,
last_run for fetch-incidents), runs the binary with that request on stdin, and hands each
part of the JSON response back to the server. Every decision (validation, API calls,
wording of errors) stays in the binary; the shim adds no behaviour of its own.

Where the binary is looked for: the directory in $SOAR_BIN_DIR, then the directory of this
script, then $PATH. $SOAR_TIMEOUT_SECONDS overrides the run's time limit (default 600).
"""
import base64
import json
import os
import shutil
import subprocess

try:
    demisto  # noqa: B018 -- the XSOAR server injects `demisto` as a global
except NameError:
    import demistomock as demisto  # noqa: F401 -- how content scripts import it elsewhere

BINARY = "{{BINARY}}"
DEFAULT_TIMEOUT_SECONDS = 600
ENTRY_NOTE = 1
ENTRY_FILE = 3
ENTRY_ERROR = 4
ENTRY_INFO_FILE = 9

# Top-level response fields this shim applies. Anything else the binary sends is left
# untouched: it is neither dropped into the War Room nor interpreted here, so that behaviour
# added to the protocol later is decided in the binary and wired here explicitly, never guessed.
# Polling needs no field of its own: a scheduled entry carries XSOAR's own polling keys
# (PollingCommand, NextRun, PollingArgs, Timeout), which the server reads from the entry.
KNOWN_RESPONSE_FIELDS = (
    "id", "entries", "integration_context", "context_version", "last_run", "incidents", "mirror",
)


def error_entry(message):
    """An error entry, shaped as the binary's own error entries."""
    return {"Type": ENTRY_ERROR, "ContentsFormat": "text", "Contents": message}


def find_binary():
    """The binary's path, or (None, the places looked at)."""
    looked = []
    bin_dir = os.environ.get("SOAR_BIN_DIR")
    if bin_dir:
        looked.append(os.path.join(bin_dir, BINARY))
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        looked.append(os.path.join(here, BINARY))
    except NameError:
        pass  # the server may run the script without a __file__
    for candidate in looked:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate, looked
    on_path = shutil.which(BINARY)
    looked.append("$PATH")
    return on_path, looked


def read_context():
    """(integration context, version); the version is None where the server has no versions."""
    versioned = getattr(demisto, "getIntegrationContextVersioned", None)
    if versioned is not None:
        try:
            got = versioned() or {}
            return got.get("context") or {}, got.get("version")
        except Exception:  # noqa: BLE001 -- older servers raise instead of lacking the method
            pass
    return demisto.getIntegrationContext() or {}, None


def build_request():
    command = demisto.command()
    context, version = read_context()
    request = {
        "command": command,
        "args": demisto.args() or {},
        "params": demisto.params() or {},
        "integration_context": context,
    }
    if version is not None:
        request["context_version"] = version
    if command == "fetch-incidents":
        request["last_run"] = demisto.getLastRun() or {}
    return request, version


def run_binary(request):
    """The parsed response, or an error entry's message (a string) when there is none."""
    path, looked = find_binary()
    if not path:
        return "soar-rt: the binary `{}` was not found; looked in: {}".format(BINARY, ", ".join(looked))
    timeout = int(os.environ.get("SOAR_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS)
    try:
        done = subprocess.run(
            [path],
            input=json.dumps(request).encode("utf-8"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "soar-rt: `{}` did not answer within {} seconds".format(BINARY, timeout)
    except OSError as err:
        return "soar-rt: could not run `{}`: {}".format(path, err)
    try:
        response = json.loads(done.stdout.decode("utf-8"))
    except ValueError:
        response = None
    if not isinstance(response, dict):
        stderr = done.stderr.decode("utf-8", "replace").strip()
        return "soar-rt: `{}` exited with status {} without a response{}".format(
            BINARY, done.returncode, ": " + stderr[-2000:] if stderr else ""
        )
    return response


def write_file_entry(entry):
    """Write a file entry's bytes where XSOAR's fileResult puts them; return the entry without them."""
    data = entry.get("FileData")
    if data is None or entry.get("Type") not in (ENTRY_FILE, ENTRY_INFO_FILE):
        return entry
    name = "{}_{}".format(demisto.investigation()["id"], entry["FileID"])
    with open(name, "wb") as out:
        out.write(base64.b64decode(data))
    return {key: value for key, value in entry.items() if key != "FileData"}


def apply_response(response, version_read):
    command = demisto.command()
    if "integration_context" in response and response["integration_context"] is not None:
        context = response["integration_context"]
        version = response.get("context_version", version_read)
        setter = getattr(demisto, "setIntegrationContextVersioned", None)
        if setter is not None and version is not None:
            setter(context, version)
        else:
            demisto.setIntegrationContext(context)
    if command == "fetch-incidents":
        if response.get("last_run") is not None:
            demisto.setLastRun(response["last_run"])
        if response.get("incidents") is not None:
            demisto.incidents(response["incidents"])
    for entry in response.get("entries") or []:
        demisto.results(write_file_entry(entry))
    mirror = response.get("mirror")
    if isinstance(mirror, dict):
        answer = mirror_result(mirror)
        if answer is not None:
            demisto.results(answer)


def mirror_result(mirror):
    """The value CommonServerPython's mirroring classes hand to demisto.results for `mirror`."""
    kind = mirror.get("kind")
    if kind == "modified-ids":  # GetModifiedRemoteDataResponse.to_entry()
        return {"Contents": mirror.get("ids") or [], "Type": ENTRY_NOTE, "ContentsFormat": "json"}
    if kind == "remote-data":  # GetRemoteDataResponse.extract_for_local()
        found = mirror.get("object") or {}
        entries = mirror.get("entries") or []
        return ([found] if found else []) + entries
    if kind == "updated":  # update-remote-system returns the remote id
        return mirror.get("id")
    if kind == "mapping":  # GetMappingFieldsResponse.extract_mapping()
        return mirror.get("schemes") or {}
    return None  # a kind this shim does not know yet: decided in the binary, not guessed here


def main():
    request, version = build_request()
    response = run_binary(request)
    if isinstance(response, str):
        demisto.results(error_entry(response))
        return
    apply_response(response, version)


if __name__ in ("__main__", "__builtin__", "builtins"):
    main()
