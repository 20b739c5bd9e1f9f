"""Hostile and odd archives, built in tmp at test time: each is read in bounded memory, gives the facts
Android would, or one line (exit 2 from the CLI) saying what is wrong. Never a traceback, never a hang."""

from __future__ import annotations

import random
import struct
import subprocess
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from aapt_apks import AAPT
from click.testing import CliRunner

from exerciser.apk import axml, read_apk
from exerciser.apk.build import deflated_zeros, manifest_xml, raw_zip
from exerciser.apk.ziparc import limits
from exerciser.cli.main import cli
from exerciser.errors import UserError

PEAK_LIMIT = 300 * 2**20
MANIFEST = "AndroidManifest.xml"
GOOD = axml.encode_text(
    manifest_xml("com.example.hostile", permissions=["android.permission.CAMERA"], label="Hostile")
)


@pytest.fixture(scope="module")
def bomb_stream():
    return deflated_zeros(1024)  # 1 GiB packed into about 1 MB, as in the issue


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _read_bounded(path: Path):
    """read_apk's result or its UserError, with Python's peak allocation while reading."""
    tracemalloc.start()
    try:
        try:
            out = read_apk(path)
        except UserError as exc:
            out = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"{path.name}: peak {peak / 2**20:.0f} MiB"
    return out


def _cli_one_line(path: Path, expected: str) -> None:
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [f"Error: {path}: {expected}"] or (
        len(result.output.strip().splitlines()) == 1 and expected in result.output
    ), result.output


BAD_CASES = {
    # name: (entries builder, expected words in the one line)
    "bomb-honest": "would unpack to 1073741824 bytes",
    "bomb-lying-size": "unpacks to more than its declared size",
    "bomb-ratio": "beyond the 200:1 the reader accepts",
    "arsc-bomb": "resources.arsc would unpack to",
    "duplicate-manifest": "2 AndroidManifest.xml entries",
    "janus-prefix": "data before the first zip entry",
    "entry-count": "zip entries, more than the",
    "cd-outside": "central directory lies outside the file",
    "unknown-method": "compression method 99, which Android cannot unpack",
    "bad-crc": "fails its CRC check",
    "axml-huge-pool": "not valid binary XML",
    "axml-huge-attr-count": "not valid binary XML",
    "axml-end-first": "end tag without a start",
    "axml-two-roots": "a second root element",
}


def build_bad(case: str, bomb: bytes) -> bytes:
    if case == "bomb-honest":
        return raw_zip([{"name": MANIFEST, "data": bomb, "method": 8, "usize": 1 << 30}])
    if case == "bomb-lying-size":
        return raw_zip([{"name": MANIFEST, "data": bomb, "method": 8, "usize": 4096}])
    if case == "bomb-ratio":  # 8 MiB (under the size cap) from 8 KiB
        return raw_zip([{"name": MANIFEST, "data": deflated_zeros(8), "method": 8, "usize": 8 << 20}])
    if case == "arsc-bomb":
        man = label_reference(GOOD, 0x7F010000)
        return raw_zip(
            [
                {"name": MANIFEST, "data": man},
                {"name": "resources.arsc", "data": bomb, "method": 8, "usize": 1 << 30},
            ]
        )
    if case == "duplicate-manifest":
        other = axml.encode_text(manifest_xml("com.example.other"))
        return raw_zip([{"name": MANIFEST, "data": GOOD}, {"name": MANIFEST, "data": other}])
    if case == "janus-prefix":
        return raw_zip([{"name": MANIFEST, "data": GOOD}], prefix=b"dex\n035\x00" + bytes(120))
    if case == "entry-count":
        return raw_zip([{"name": MANIFEST, "data": GOOD}], total=limits().max_entries * 20)
    if case == "cd-outside":
        return raw_zip([{"name": MANIFEST, "data": GOOD}], cd_shift=10_000)
    if case == "unknown-method":
        return raw_zip([{"name": MANIFEST, "data": GOOD, "method": 99}])
    if case == "bad-crc":
        return raw_zip([{"name": MANIFEST, "data": GOOD, "crc": 1234}])
    if case == "axml-huge-pool":  # string count claims 2^31 strings
        data = bytearray(GOOD)
        struct.pack_into("<I", data, 8 + 8, 0x7FFFFFFF)
        return raw_zip([{"name": MANIFEST, "data": bytes(data)}])
    if case == "axml-huge-attr-count":
        data = bytearray(GOOD)
        pos = _first_chunk(data, 0x0102)
        struct.pack_into("<H", data, pos + 16 + 12, 0xFFFF)
        return raw_zip([{"name": MANIFEST, "data": bytes(data)}])
    if case == "axml-end-first":
        data = bytearray(GOOD)
        pos = _first_chunk(data, 0x0102)
        struct.pack_into("<H", data, pos, 0x0103)
        return raw_zip([{"name": MANIFEST, "data": bytes(data)}])
    if case == "axml-two-roots":
        data = axml.encode_text(manifest_xml("com.example.hostile"))
        pos = _first_chunk(bytearray(data), 0x0102)
        end = len(data) - 24  # the end-namespace chunk
        tree = data[pos:end]
        body = data[8:pos] + tree + tree + data[end:]
        return raw_zip([{"name": MANIFEST, "data": struct.pack("<HHI", 3, 8, 8 + len(body)) + body}])
    raise KeyError(case)


def label_reference(axml_bytes: bytes, res_id: int) -> bytes:
    """The manifest with android:label (0x01010001) turned into a reference (@res_id), as aapt writes
    `@string/app_name`."""
    data = bytearray(axml_bytes)
    res_map = _first_chunk(data, 0x0180)
    n = (struct.unpack_from("<I", data, res_map + 4)[0] - 8) // 4
    ids = struct.unpack_from(f"<{n}I", data, res_map + 8)
    pos = 8
    while pos < len(data):
        kind, hsize, size = struct.unpack_from("<HHI", data, pos)
        if kind == 0x0102:
            ext = pos + hsize
            a_start, a_size, a_count = struct.unpack_from("<HHH", data, ext + 8)
            for i in range(a_count):
                at = ext + a_start + i * a_size
                name = struct.unpack_from("<I", data, at + 4)[0]
                if name < n and ids[name] == 0x01010001:
                    struct.pack_into("<IHBBI", data, at + 8, 0xFFFFFFFF, 8, 0, 0x01, res_id)
                    return bytes(data)
        pos += size
    raise AssertionError("no android:label")


def _chunks(data: bytes) -> list[tuple[int, int, int]]:
    """(type, start, end) of the chunks inside an AXML document."""
    out, pos = [], 8
    while pos < len(data):
        k, _, size = struct.unpack_from("<HHI", data, pos)
        out.append((k, pos, pos + size))
        pos += size
    return out


def _first_chunk(data: bytearray, kind: int) -> int:
    pos = 8
    while pos < len(data):
        k, _, size = struct.unpack_from("<HHI", data, pos)
        if k == kind:
            return pos
        pos += size
    raise AssertionError(f"no chunk 0x{kind:x}")


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_archive_is_one_line_in_bounded_memory(case, bomb_stream, tmp_path):
    data = build_bad(case, bomb_stream)
    if not data:
        pytest.skip("entry cap above what a 16-bit count can claim")
    path = _write(tmp_path, f"{case}.apk", data)
    out = _read_bounded(path)
    assert isinstance(out, UserError), out
    assert BAD_CASES[case] in str(out)
    assert "\n" not in str(out) and str(out).startswith(f"{path}: ")
    _cli_one_line(path, BAD_CASES[case])


def test_encrypted_flag_on_a_plain_entry_is_ignored_as_android_does(tmp_path):
    path = _write(tmp_path, "fake-encrypted.apk", raw_zip([{"name": MANIFEST, "data": GOOD, "flags": 0x1}]))
    info = _read_bounded(path)
    assert not isinstance(info, UserError), info
    assert (info.package, info.label) == ("com.example.hostile", "Hostile")
    with zipfile.ZipFile(path) as zf, pytest.raises(RuntimeError, match="encrypted"):
        zf.read(MANIFEST)  # what tripped the old reader (and trips jadx/apktool-style tools)
    if AAPT is not None:  # aapt, like Android, reads it
        badging = subprocess.run([AAPT, "dump", "badging", str(path)], capture_output=True, text=True).stdout
        assert "package: name='com.example.hostile'" in badging
    result = CliRunner().invoke(cli, ["check", str(path)])
    assert result.exit_code == 1  # CAMERA, no feature: a category-7 finding, not a crash
    assert "camera" in result.output


def test_deflated_manifest_within_caps_is_read(tmp_path):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = c.compress(GOOD) + c.flush()
    path = _write(
        tmp_path,
        "deflated.apk",
        raw_zip(
            [{"name": MANIFEST, "data": packed, "method": 8, "crc": zlib.crc32(GOOD), "usize": len(GOOD)}]
        ),
    )
    assert read_apk(path).package == "com.example.hostile"


def test_deeply_nested_manifest_is_read_without_recursion(tmp_path):
    """50,000 nested elements (chunks copied, so the test's own writer need not recurse that deep)."""
    data = axml.encode_text(manifest_xml("com.example.deep").replace("</application>", "<x/></application>"))
    starts = [p for p in _chunks(data) if p[0] == 0x0102]
    ends = [p for p in _chunks(data) if p[0] == 0x0103]
    start_x, end_x = starts[-1], ends[0]  # <x> is the last element to open and the first to close
    depth = 50_000
    body = data[8 : start_x[1]] + data[start_x[1] : start_x[2]] * depth + data[end_x[1] : end_x[2]] * depth
    body += data[end_x[2] :]
    deep = struct.pack("<HHI", 3, 8, 8 + len(body)) + body
    path = _write(tmp_path, "deep.apk", raw_zip([{"name": MANIFEST, "data": deep}]))
    info = read_apk(path)  # no tracemalloc here: it slows 100,000 events tenfold
    assert info.package == "com.example.deep"


def test_random_byte_damage_never_gives_a_traceback(tmp_path):
    """Three hundred random byte mutations of a manifest: facts or one line, nothing else."""
    rng = random.Random(17)
    outcomes = {"read": 0, "refused": 0}
    for i in range(300):
        data = bytearray(GOOD)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data))
            data[pos] = rng.randrange(256) if rng.random() < 0.7 else 0xFF
        path = _write(tmp_path, f"m{i}.apk", raw_zip([{"name": MANIFEST, "data": bytes(data)}]))
        try:
            read_apk(path)
            outcomes["read"] += 1
        except UserError as exc:
            assert "\n" not in str(exc)
            outcomes["refused"] += 1
    assert outcomes["read"] and outcomes["refused"]  # both kinds happened: the mutations did reach the parser


def test_random_damage_to_the_zip_structure_never_gives_a_traceback(tmp_path):
    """Three hundred mutations of the local header, central directory and end records (zip64 ones too)."""
    rng = random.Random(18)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = c.compress(GOOD) + c.flush()
    entry = {"name": MANIFEST, "data": packed, "method": 8, "crc": zlib.crc32(GOOD), "usize": len(GOOD)}
    bases = [raw_zip([entry]), raw_zip([entry], total=70_000)]  # the second has zip64 end records
    refused = 0
    for i in range(300):
        data = bytearray(bases[i % 2])
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(30) if rng.random() < 0.3 else len(data) - 1 - rng.randrange(140)
            data[pos] = rng.randrange(256)
        path = _write(tmp_path, f"z{i}.apk", bytes(data))
        try:
            read_apk(path)
        except UserError as exc:
            assert "\n" not in str(exc)
            refused += 1
    assert refused


def self_referencing_table(res_id: int) -> bytes:
    """A resources.arsc whose one entry, `res_id` (type 1, entry 0), is a reference to itself."""
    pool = struct.pack("<HHIIIIII", 0x0001, 28, 28, 0, 0, 0, 0, 0)
    config = struct.pack("<I", 64) + bytes(60)
    entry = struct.pack("<HHI", 8, 0, 0) + struct.pack("<HBBI", 8, 0, 0x01, res_id)
    type_header = struct.pack("<HHIBBHII", 0x0201, 20 + 64, 0, (res_id >> 16) & 0xFF, 0, 0, 1, 20 + 64 + 4)
    type_chunk = bytearray(type_header + config + struct.pack("<I", 0) + entry)
    struct.pack_into("<I", type_chunk, 4, len(type_chunk))
    pkg_header = struct.pack("<HHII", 0x0200, 288, 0, res_id >> 24) + bytes(256) + bytes(20)
    pkg = bytearray(pkg_header + type_chunk)
    struct.pack_into("<I", pkg, 4, len(pkg))
    body = pool + bytes(pkg)
    return struct.pack("<HHII", 0x0002, 12, 12 + len(body), 1) + body


def test_reference_loop_in_resources_ends_at_the_depth_cap(tmp_path):
    """@7f010000 -> @7f010000 -> ...: resolution stops after max_reference_depth steps, and the label is then
    what Android shows for an unresolvable label (the package name here)."""
    table = self_referencing_table(0x7F010000)
    man = label_reference(GOOD, 0x7F010000)
    path = _write(
        tmp_path,
        "loop.apk",
        raw_zip([{"name": MANIFEST, "data": man}, {"name": "resources.arsc", "data": table}]),
    )
    info = _read_bounded(path)
    assert not isinstance(info, UserError), info
    assert info.label == "com.example.hostile"
    from exerciser.apk.arsc import ResourceTable

    assert ResourceTable(table).value(0x7F010000) == (0x01, 0x7F010000)  # the table itself was read
