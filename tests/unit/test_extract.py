"""Safe extraction: what lands on disk, and what is refused with which words."""

from __future__ import annotations

import math
import os
import random
import re
import shutil
import stat
import threading
import zipfile
from pathlib import Path
from typing import List, Tuple

import pytest
from archive_factory import (
    Entry,
    deflate64_zip,
    duplicate_zip,
    file,
    folder,
    make_gz,
    make_zip,
    nested_bomb,
    patch_flags,
    patch_name,
    patch_size,
    patch_utf8_name,
    zip_bytes,
)

from os_downloads.core.engine.archive_safety import safe_member_path
from os_downloads.core.engine.extract import default_dest, extract_all, extract_archive
from os_downloads.core.engine.extract_marker import MARKER_NAME
from os_downloads.core.engine.zip_limits import ExtractLimits
from os_downloads.core.errors import (
    ArchiveNameClashError,
    Cancelled,
    ExtractionError,
    OSDownloadsError,
    UnsafeArchiveError,
    UnsupportedCompressionError,
    ZipBombError,
    describe,
)

needs_unzip = pytest.mark.skipif(shutil.which("unzip") is None, reason="Info-ZIP unzip missing")
LICENCE = "© Crown copyright and database right 2026\r\n".encode("cp1252")


def _tree(folder: Path) -> List[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _leftovers(parent: Path, dest: Path) -> List[str]:
    """Anything extraction left beside ``dest`` (partial or old folders)."""
    prefixes = (f"{dest.name}.partial-", f"{dest.name}.old-")
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(prefixes))


def _product_zip(path: Path) -> Path:
    return make_zip(
        path,
        [
            folder("Data"),
            file("Data/oprvrs_gb.gpkg", b"SQLite format 3\x00" + os.urandom(3000)),
            file("Doc/licence.txt", LICENCE),
            file("Doc/readme.txt", "readme\r\n"),
        ],
    )


# --- the ordinary case -----------------------------------------------------------------


def test_extracts_into_dest_with_marker_and_lists_files(tmp_path: Path) -> None:
    archive = _product_zip(tmp_path / "oprvrs_gpkg_gb.zip")
    dest = tmp_path / "out" / "oprvrs_gpkg_gb"
    seen: List[Tuple[int, int]] = []

    result = extract_archive(archive, dest, progress=lambda d, t: seen.append((d, t)))

    assert not result.skipped
    assert result.files == [
        dest / "Data/oprvrs_gb.gpkg",
        dest / "Doc/licence.txt",
        dest / "Doc/readme.txt",
    ]
    assert _tree(dest) == [MARKER_NAME, "Data/oprvrs_gb.gpkg", "Doc/licence.txt", "Doc/readme.txt"]
    assert (dest / "Doc/licence.txt").read_bytes() == LICENCE  # Windows-1252 kept byte for byte
    assert result.bytes_written == 3016 + len(LICENCE) + 8
    assert seen[-1] == (result.bytes_written, result.bytes_written)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert _leftovers(dest.parent, dest) == []


def test_second_extraction_does_no_work(tmp_path: Path) -> None:
    archive = _product_zip(tmp_path / "a.zip")
    dest = tmp_path / "a"
    first = extract_archive(archive, dest)
    inode = (dest / "Data/oprvrs_gb.gpkg").stat().st_ino
    calls: List[int] = []

    again = extract_archive(archive, dest, progress=lambda d, t: calls.append(d))

    assert again.skipped and again.bytes_written == 0
    assert again.files == first.files
    assert calls == []
    assert (dest / "Data/oprvrs_gb.gpkg").stat().st_ino == inode


def test_a_changed_archive_replaces_the_earlier_extraction(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [file("old.txt", "old")])
    dest = tmp_path / "a"
    extract_archive(archive, dest)
    make_zip(archive, [file("new.txt", "newer content")])

    result = extract_archive(archive, dest)

    assert not result.skipped
    assert _tree(dest) == [MARKER_NAME, "new.txt"]
    assert _leftovers(tmp_path, dest) == []


def test_deleted_files_are_extracted_again(tmp_path: Path) -> None:
    archive = _product_zip(tmp_path / "a.zip")
    dest = tmp_path / "a"
    extract_archive(archive, dest)
    (dest / "Data/oprvrs_gb.gpkg").unlink()

    assert not extract_archive(archive, dest).skipped
    assert (dest / "Data/oprvrs_gb.gpkg").is_file()


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path: Path) -> None:
    archive = _product_zip(tmp_path / "a.zip")
    dest = tmp_path / "mine"
    dest.mkdir()
    (dest / "notes.txt").write_text("my own work")

    with pytest.raises(ExtractionError, match="not extracted here"):
        extract_archive(archive, dest)
    assert _tree(dest) == ["notes.txt"]


def test_failed_extraction_keeps_the_earlier_one(tmp_path: Path) -> None:
    archive = _product_zip(tmp_path / "a.zip")
    dest = tmp_path / "a"
    extract_archive(archive, dest)
    make_zip(archive, [file("fine.txt"), file("../evil.txt")])

    with pytest.raises(UnsafeArchiveError):
        extract_archive(archive, dest)
    assert "Data/oprvrs_gb.gpkg" in _tree(dest)
    assert not (tmp_path / "evil.txt").exists()
    assert _leftovers(tmp_path, dest) == []


def test_cancel_leaves_no_final_folder(tmp_path: Path) -> None:
    entries = [file(f"data/tile{i}.asc", os.urandom(3 << 20)) for i in range(3)]
    archive = make_zip(tmp_path / "big.zip", entries)
    dest = tmp_path / "big"
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done > 0:
            cancel.set()

    with pytest.raises(Cancelled):
        extract_archive(archive, dest, cancel=cancel, progress=progress)
    assert not dest.exists()
    assert _leftovers(tmp_path, dest) == []


def test_not_an_archive_and_damaged_archives(tmp_path: Path) -> None:
    text = tmp_path / "Order_Details.txt"
    text.write_text("order")
    with pytest.raises(ExtractionError, match="not a .zip or .gz"):
        extract_archive(text, tmp_path / "x")

    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(zip_bytes([file("a.txt", os.urandom(5000))])[:3000])
    with pytest.raises(ExtractionError, match="not a readable zip"):
        extract_archive(truncated, tmp_path / "cut")
    assert not (tmp_path / "cut").exists()


# --- hostile names and entries ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../evil.txt",
        "data/../../evil.txt",
        "/abs/evil.txt",
        "C:\\evil.txt",
        "C:/evil.txt",
        "..\\evil.txt",
        "data\\..\\..\\evil.txt",
        "data/file.txt:stream",
        "\\\\server\\share\\x",
    ],
)
def test_zip_slip_entries_are_refused_by_name(tmp_path: Path, name: str) -> None:
    archive = make_zip(tmp_path / "slip.zip", [file("ok.txt"), file(name, "pwned")])
    dest = tmp_path / "deep" / "out"

    with pytest.raises(UnsafeArchiveError) as caught:
        extract_archive(archive, dest)

    assert repr(name) in str(caught.value)
    assert not dest.exists()
    assert _tree(tmp_path) == ["slip.zip"]


@pytest.mark.parametrize("name", ["data/\x1b[2Jclear.txt", "a\rb.txt", "bell\x07.csv", "x\x7f"])
def test_names_with_control_characters_are_refused_and_shown_escaped(
    tmp_path: Path, name: str
) -> None:
    archive = make_zip(tmp_path / "ctl.zip", [file(name, "x")])

    with pytest.raises(UnsafeArchiveError, match="has a control character in its name") as caught:
        extract_archive(archive, tmp_path / "ctl")
    assert not any(ord(c) < 32 or ord(c) == 127 for c in describe(caught.value))


def test_member_names_are_normalised() -> None:
    assert safe_member_path("a/./b//c.txt", "t").as_posix() == "a/b/c.txt"
    assert safe_member_path("dir\\file.txt", "t").as_posix() == "dir/file.txt"
    assert safe_member_path("./", "t") is None


def test_symlink_entries_are_refused(tmp_path: Path) -> None:
    link = Entry("data/passwd", b"/etc/passwd", stat.S_IFLNK | 0o777)
    archive = make_zip(tmp_path / "link.zip", [file("ok.txt"), link])

    with pytest.raises(UnsafeArchiveError, match="'data/passwd' is a symbolic link"):
        extract_archive(archive, tmp_path / "link")
    assert not (tmp_path / "link").exists()


def test_device_entries_are_refused(tmp_path: Path) -> None:
    device = Entry("dev/null", b"", stat.S_IFCHR | 0o666)
    archive = make_zip(tmp_path / "dev.zip", [device])

    with pytest.raises(UnsafeArchiveError, match="device or special file"):
        extract_archive(archive, tmp_path / "dev")


def test_encrypted_entries_are_named(tmp_path: Path) -> None:
    archive = tmp_path / "enc.zip"
    archive.write_bytes(patch_flags(zip_bytes([file("secret.csv", "x")]), "secret.csv", 0x1))

    with pytest.raises(ExtractionError, match="'secret.csv' is encrypted"):
        extract_archive(archive, tmp_path / "enc")


# --- zip bombs -----------------------------------------------------------------------


def test_high_ratio_entry_is_refused_before_writing(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "bomb.zip", [file("zeros.bin", bytes(20 << 20), level=9)])
    written: List[int] = []

    with pytest.raises(UnsafeArchiveError, match="zeros.bin: expands more than 100 times"):
        extract_archive(archive, tmp_path / "bomb", progress=lambda d, t: written.append(d))
    assert written == []
    assert not (tmp_path / "bomb").exists()


def test_total_size_limit(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "t.zip", [file(f"f{i}", os.urandom(50_000)) for i in range(3)])

    with pytest.raises(UnsafeArchiveError, match="declares 150.0 KB of content, more than"):
        extract_archive(archive, tmp_path / "t", limits=ExtractLimits(max_total_bytes=100_000))


def test_entry_count_limit(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "many.zip", [file(f"f{i}.txt") for i in range(11)])

    with pytest.raises(UnsafeArchiveError, match="too many entries"):
        extract_archive(archive, tmp_path / "many", limits=ExtractLimits(max_entries=10))


def test_gz_bomb_is_stopped_on_the_bytes_actually_written(tmp_path: Path) -> None:
    """gzip has no trustworthy size header: the ratio is checked while streaming."""
    archive = make_gz(tmp_path / "chunk.gml.gz", bytes(40 << 20))
    seen: List[int] = []

    with pytest.raises(UnsafeArchiveError, match="expands more than 100 times"):
        extract_archive(archive, tmp_path / "chunk", progress=lambda d, t: seen.append(d))
    assert 0 < max(seen) < (40 << 20)  # stopped part-way, not after the whole bomb
    assert not (tmp_path / "chunk").exists()


def test_gz_total_limit_is_enforced_while_streaming(tmp_path: Path) -> None:
    text = os.urandom(100_000).hex().encode()  # 200 kB that compresses about 2x
    archive = make_gz(tmp_path / "part.csv.gz", text)

    with pytest.raises(UnsafeArchiveError, match="unpacks to more than the limit"):
        extract_archive(archive, tmp_path / "part", limits=ExtractLimits(max_total_bytes=150_000))


def test_lying_size_header_is_caught(tmp_path: Path) -> None:
    """A header declaring 1 000 bytes for 2 MB of data: nothing unchecked reaches the disk."""
    data = zip_bytes([file("data/lie.bin", os.urandom(2 << 20))])
    archive = tmp_path / "lie.zip"
    archive.write_bytes(patch_size(data, "data/lie.bin", 1000))

    with pytest.raises(ExtractionError, match="lie.bin is damaged"):
        extract_archive(archive, tmp_path / "lie")
    assert not (tmp_path / "lie").exists()


def test_nested_archives_count_against_one_budget(tmp_path: Path) -> None:
    inner = [zip_bytes([file(f"t{i}.asc", os.urandom(60_000))]) for i in range(2)]
    outer = make_zip(
        tmp_path / "outer.zip",
        [file(f"data/t{i}.zip", blob, method=zipfile.ZIP_STORED) for i, blob in enumerate(inner)],
    )

    with pytest.raises(UnsafeArchiveError, match=r"outer.zip > data/t0.zip: declares"):
        extract_archive(outer, tmp_path / "o", limits=ExtractLimits(max_total_bytes=150_000))
    assert not (tmp_path / "o").exists()


def test_nesting_depth_is_limited(tmp_path: Path) -> None:
    blob = zip_bytes([file("core.txt", "deep")])
    for depth in range(3):
        blob = zip_bytes([file(f"level{depth}.zip", blob)])
    archive = tmp_path / "russian.zip"
    archive.write_bytes(blob)

    with pytest.raises(UnsafeArchiveError, match="nested more than 2 deep"):
        extract_archive(archive, tmp_path / "r", limits=ExtractLimits(max_nesting=2))
    assert _tree(extract_archive(archive, tmp_path / "ok").dest) == [
        MARKER_NAME,
        "level2/level1/level0/core.txt",
    ]


_MiB = 1 << 20


@pytest.mark.parametrize(
    "inner",
    [
        "zip",  # refused on the sizes the nested headers declare, before their bytes are written
        "gz",  # .gz declare nothing: refused on the bytes written, chunk by chunk
    ],
)
def test_nested_bomb_is_refused_on_one_budget_for_the_whole_tree(
    tmp_path: Path, inner: str
) -> None:
    """A ~12 KB zip of zips of zips expanding to 16 GiB, each member within the per-entry ratio
    allowance: refused as a zip bomb after writing no more than the tree's allowance."""
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(nested_bomb(levels=2, fanout=16, leaf_bytes=4 * _MiB, inner=inner))
    assert archive.stat().st_size < 20_000
    dest = tmp_path / "bomb"
    written: List[int] = []

    def progress(done: int, total: int) -> None:
        written.append(done)
        assert done < 256 * _MiB, "kept writing a bomb"  # keeps the old code from filling /tmp

    with pytest.raises(ZipBombError) as caught:
        extract_archive(archive, dest, progress=progress)

    message = describe(caught.value)
    assert "It looks like a zip bomb" in message and "disk space" not in message
    assert "bomb.zip > " in message  # names where in the tree it was found
    assert max(written) <= ExtractLimits().tree_grace_bytes
    assert not dest.exists()
    assert _leftovers(tmp_path, dest) == []


def test_tree_budget_is_relative_to_the_outermost_archive(tmp_path: Path) -> None:
    """Every byte written counts, inner zips included, against the outermost archive's size."""
    archive = _terrain50(tmp_path / "terr50_gagg_gb.zip")
    ratio = extract_archive(archive, tmp_path / "ok").bytes_written / archive.stat().st_size
    assert 2 < ratio < ExtractLimits().max_tree_ratio  # inner zips plus their contents

    tight = ExtractLimits(max_tree_ratio=math.floor(ratio), tree_grace_bytes=0)
    with pytest.raises(ZipBombError, match=r"archive past .* KB from the .* KB of terr50_gagg_gb"):
        extract_archive(archive, tmp_path / "tight", limits=tight)
    roomy = ExtractLimits(max_tree_ratio=math.ceil(ratio), tree_grace_bytes=0)
    assert extract_archive(archive, tmp_path / "roomy", limits=roomy).bytes_written > 0


def test_nested_zip_beside_a_folder_of_its_name_gets_its_own_folder(tmp_path: Path) -> None:
    """``x.zip`` beside ``x/``: its files go to ``x_zip/``, never over ``x/readme.txt``."""
    inner = zip_bytes([file("readme.txt", "inner"), file("tile.asc", "ncols 1")])
    archive = make_zip(
        tmp_path / "outer.zip",
        [
            file("data/x/readme.txt", "outer"),
            file("data/x.zip", inner),
            file("data/Y", "a file called Y"),
            folder("data/y_zip"),
            file("data/y.zip", inner),
        ],
    )

    result = extract_archive(archive, tmp_path / "out")

    data = result.dest / "data"
    assert (data / "x" / "readme.txt").read_text() == "outer"
    assert (data / "x_zip" / "readme.txt").read_text() == "inner"
    assert (data / "Y").read_text() == "a file called Y"
    assert (data / "y_zip_2" / "readme.txt").read_text() == "inner"  # Y and y_zip are taken
    assert sorted(os.listdir(data / "y_zip")) == []
    assert _tree(result.dest) == [
        MARKER_NAME,
        "data/Y",
        "data/x/readme.txt",
        "data/x_zip/readme.txt",
        "data/x_zip/tile.asc",
        "data/y_zip_2/readme.txt",
        "data/y_zip_2/tile.asc",
    ]


@pytest.mark.parametrize(
    "entries, words",
    [
        (duplicate_zip("Data/a.csv", b"first", b"second"), "holds two entries named 'Data/a.csv'"),
        (
            zip_bytes([file("Data/A.csv", "first"), file("data/a.csv", "second")]),
            "'Data/A.csv' and 'data/a.csv' would be the same file on Windows",
        ),
        (
            zip_bytes([file("Data/a", "a file"), file("Data/a/b.csv", "in a folder")]),
            "'Data/a' is a file, but 'Data/a/b.csv' needs a folder of that name",
        ),
        (zip_bytes([file(MARKER_NAME, "{}")]), "this program's own record"),
    ],
    ids=["duplicate", "case", "file-and-folder", "marker"],
)
def test_entries_that_would_overwrite_each_other_are_refused(
    tmp_path: Path, entries: bytes, words: str
) -> None:
    archive = tmp_path / "dup.zip"
    archive.write_bytes(entries)

    with pytest.raises(ArchiveNameClashError, match=re.escape(words)):
        extract_archive(archive, tmp_path / "dup")
    assert not (tmp_path / "dup").exists()
    assert _leftovers(tmp_path, tmp_path / "dup") == []


def test_duplicates_inside_a_nested_zip_are_refused_and_named(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "outer.zip", [file("data/inner.zip", duplicate_zip("t.asc", b"1", b"2"))]
    )

    with pytest.raises(ArchiveNameClashError, match=r"outer.zip > data/inner.zip: holds two"):
        extract_archive(archive, tmp_path / "o")


@pytest.mark.parametrize("nested", [False, True])
def test_invalid_utf8_name_with_the_utf8_flag_is_a_clear_error(
    tmp_path: Path, nested: bool
) -> None:
    data = patch_utf8_name(
        zip_bytes([file("Doc/caf\u00e9.txt", "x"), file("a.txt", "a")]), "caf\u00e9", b"caf\xff\xfe"
    )
    archive = tmp_path / "names.zip"
    archive.write_bytes(zip_bytes([file("data/inner.zip", data)]) if nested else data)

    with pytest.raises(ExtractionError, match="marked as UTF-8 but is not valid UTF-8") as caught:
        extract_archive(archive, tmp_path / "names")
    assert describe(caught.value).startswith("names.zip" + (" > data/inner.zip" if nested else ""))
    assert not (tmp_path / "names").exists()


def test_damaged_archives_only_ever_raise_typed_errors(tmp_path: Path) -> None:
    """Bytes flipped anywhere in a zip, a nested zip or a .gz: a clear error or a good result."""
    inner = zip_bytes([file("t.asc", "ncols 10\n" * 200), file("doc/a.txt", "licence")])
    originals = {
        "plain.zip": zip_bytes([file("Data/a.csv", "a,b\r\n1,2\r\n" * 300), folder("Doc")]),
        "nested.zip": zip_bytes([file("data/su/su41.zip", inner, method=zipfile.ZIP_STORED)]),
        "chunk.gml.gz": __import__("gzip").compress(b"<gml/>" * 2000, mtime=0),
    }
    rng = random.Random(10)
    for round_ in range(150):
        name, blob = rng.choice(sorted(originals.items()))
        damaged = bytearray(blob)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        archive = tmp_path / f"{round_}_{name}"
        archive.write_bytes(bytes(damaged))
        try:
            extract_archive(archive, tmp_path / f"out{round_}")
        except OSDownloadsError as err:
            assert not describe(err).startswith("Unexpected"), err
        archive.unlink()


# --- OS layouts --------------------------------------------------------------------------


def _terrain50(path: Path, inner_zip=zip_bytes) -> Path:
    tiles = []
    for square, tile in (("su", "SU41"), ("su", "SU42"), ("tq", "TQ28")):
        grid = f"ncols 200\nnrows 200\nxllcorner 440000\nyllcorner 110000\ncellsize 50\n{tile}\n"
        inner = inner_zip(
            [
                file(f"{tile}.asc", grid * 50),
                file(f"{tile}.gml", "<gml/>"),
                file(f"{tile}.prj", 'PROJCS["British_National_Grid"]'),
                file(f"{tile}.asc.aux.xml", "<PAMDataset/>"),
                file(f"Metadata_{tile}.xml", "<metadata/>"),
            ]
        )
        name = f"data/{square}/{tile.lower()}_OST50GRID_20250701.zip"
        tiles.append(file(name, inner, method=zipfile.ZIP_STORED))
    return make_zip(path, [*tiles, file("doc/licence.txt", LICENCE)])


def test_terrain50_nested_zips_are_extracted_into_folders_named_after_them(
    tmp_path: Path,
) -> None:
    archive = _terrain50(tmp_path / "terr50_gagg_gb.zip")

    result = extract_archive(archive, tmp_path / "terr50_gagg_gb")

    tree = _tree(result.dest)
    assert "data/su/su41_OST50GRID_20250701/SU41.asc" in tree
    assert "data/tq/tq28_OST50GRID_20250701/Metadata_TQ28.xml" in tree
    assert not [name for name in tree if name.endswith(".zip")]
    assert len(result.files) == 3 * 5 + 1
    assert extract_archive(archive, result.dest).skipped


def test_mode_000_entries_come_out_readable(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "osopenuprn_202601_csv.zip",
        [
            file("osopenuprn_202601.csv", "UPRN,X_COORDINATE,Y_COORDINATE\r\n", mode=0o100000),
            file("licence.txt", LICENCE, mode=0o100000),
            Entry("sub/", b"", stat.S_IFDIR),
            file("sub/versions.txt", "Product Name: OS Open UPRN", mode=0),
        ],
    )

    result = extract_archive(archive, tmp_path / "uprn")

    for path in result.files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o600 == 0o600, path
        assert path.read_bytes()
    assert stat.S_IMODE((result.dest / "sub").stat().st_mode) & 0o700 == 0o700


def test_data_and_doc_casing_spaces_and_brackets(tmp_path: Path) -> None:
    top = "OS Open Greenspace (GML) TQ"
    archive = make_zip(
        tmp_path / "opgrsp_gml3_tq.zip",
        [
            file(f"{top}/data/OSOpenGreenspace_TQ.gml", "<gml/>"),
            file(f"{top}/Data/extra [v2].csv", "a,b\r\n"),
            file(f"{top}/doc/licence.txt", LICENCE),
            file(f"{top}/Doc/readme.txt", "r"),
        ],
    )

    result = extract_archive(archive, tmp_path / "g")

    assert {p.relative_to(result.dest).as_posix() for p in result.files} == {
        f"{top}/data/OSOpenGreenspace_TQ.gml",
        f"{top}/Data/extra [v2].csv",
        f"{top}/doc/licence.txt",
        f"{top}/Doc/readme.txt",
    }


def test_names_without_the_utf8_flag_are_decoded_as_cp437_without_crashing(
    tmp_path: Path,
) -> None:
    data = zip_bytes([file("Doc/CrXdits.txt", LICENCE), file("Doc/caf\u00e9.txt", "utf8 flag")])
    archive = tmp_path / "names.zip"
    archive.write_bytes(patch_name(data, b"CrXdits", "Crédits".encode("cp1252")))

    result = extract_archive(archive, tmp_path / "names")

    names = sorted(p.name for p in result.files)
    assert names == ["CrΘdits.txt", "café.txt"]  # 0xE9 is 'Θ' in cp437, as Python reads it
    assert (result.dest / "Doc" / "CrΘdits.txt").read_bytes() == LICENCE


# --- .gz ---------------------------------------------------------------------------------


def test_gz_file_is_decompressed_to_its_name_without_gz(tmp_path: Path) -> None:
    archive = make_gz(tmp_path / "SU4010.gml.gz", b"<?xml version='1.0'?><gml:x/>")

    result = extract_archive(archive, default_dest(archive, tmp_path / "out"))

    assert result.dest == tmp_path / "out" / "SU4010"
    assert [p.name for p in result.files] == ["SU4010.gml"]


def test_mastermap_chunk_without_suffix_becomes_gml(tmp_path: Path) -> None:
    gml = b'<?xml version="1.0"?>\n<osgb:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2"/>'
    archive = make_gz(tmp_path / "5436275-SU4010.gz", gml)

    result = extract_archive(archive, tmp_path / "5436275-SU4010")

    assert [p.name for p in result.files] == ["5436275-SU4010.gml"]
    assert result.files[0].read_bytes() == gml


def test_gz_inside_zip_is_decompressed_and_removed(tmp_path: Path) -> None:
    import gzip

    archive = make_zip(
        tmp_path / "mm.zip",
        [file("data/a.gml.gz", gzip.compress(b"<gml/>")), file("data/b.gml", "<gml/>")],
    )

    result = extract_archive(archive, tmp_path / "mm")

    assert _tree(result.dest) == [MARKER_NAME, "data/a.gml", "data/b.gml"]


def test_damaged_gz(tmp_path: Path) -> None:
    broken = tmp_path / "x.gml.gz"
    broken.write_bytes(make_gz(tmp_path / "ok.gz", b"<gml/>" * 1000).read_bytes()[:40])

    with pytest.raises(ExtractionError, match="not a readable gzip"):
        extract_archive(broken, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_extract_all_skips_files_that_are_not_archives(tmp_path: Path) -> None:
    downloads = tmp_path / "dl"
    zipped = _product_zip(downloads / "oprvrs_gpkg_gb.zip")
    chunk = make_gz(downloads / "5436275-SU4010.gz", b"<?xml?><gml/>")
    order = downloads / "5436275-Order_Details.txt"
    order.write_text("order")

    results = extract_all([zipped, order, chunk], tmp_path / "extracted")

    assert [r.dest.name for r in results] == ["oprvrs_gpkg_gb", "5436275-SU4010"]
    assert order.exists() and zipped.exists()


# --- Deflate64 -----------------------------------------------------------------------


@needs_unzip
def test_deflate64_members_are_read_with_unzip_under_the_same_checks(tmp_path: Path) -> None:
    grid = b"ncols 200\n" + os.urandom(300_000)
    archive = tmp_path / "sd67.zip"
    archive.write_bytes(
        deflate64_zip([file("SD67.asc", grid), file("odd [1] *name?.txt", "x"), file("-x", "y")])
    )
    with zipfile.ZipFile(archive) as check, pytest.raises(NotImplementedError):
        check.read("SD67.asc")  # Python itself cannot read these members

    result = extract_archive(archive, tmp_path / "sd67")

    assert (result.dest / "SD67.asc").read_bytes() == grid
    assert (result.dest / "odd [1] *name?.txt").read_bytes() == b"x"
    assert (result.dest / "-x").read_bytes() == b"y"


@needs_unzip
def test_deflate64_inner_zip_of_terrain50(tmp_path: Path) -> None:
    archive = _terrain50(tmp_path / "terr50_gagg_gb.zip", inner_zip=deflate64_zip)

    result = extract_archive(archive, tmp_path / "t50")

    asc = result.dest / "data/su/su41_OST50GRID_20250701/SU41.asc"
    assert asc.read_text().startswith("ncols 200")


@needs_unzip
def test_deflate64_member_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    data = deflate64_zip([file("data/lie.bin", os.urandom(2 << 20))])
    archive = tmp_path / "lie64.zip"
    archive.write_bytes(patch_size(data, "data/lie.bin", 1000))

    with pytest.raises(UnsafeArchiveError, match="more than the 1,000 bytes its header declares"):
        extract_archive(archive, tmp_path / "lie64")
    assert not (tmp_path / "lie64").exists()


def test_deflate64_without_unzip_names_the_member_and_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "sd67.zip"
    archive.write_bytes(deflate64_zip([file("data/sd/SD67.asc", "ncols 200\n")]))
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))

    with pytest.raises(UnsupportedCompressionError) as caught:
        extract_archive(archive, tmp_path / "sd67")

    assert "sd67.zip > data/sd/SD67.asc is compressed with Deflate64" in str(caught.value)
    assert "unzip" in caught.value.hint and "7-Zip" in caught.value.hint
    assert not (tmp_path / "sd67").exists()
