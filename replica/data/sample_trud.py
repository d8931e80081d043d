"""NHS TRUD sample data: three items, several releases each, the real integrity files.

- item 341 "NHS ODS XML Organisation Data": ``hscorgrefdataxml_data_<v>_<date>000001.zip``
  holding ``fullfile.zip`` and ``archive.zip`` (nested, as the real one), each with
  an ``HSCOrgRefData_*.xml`` in the ODS 2-0-0 schema;
- item 58 "NHS ODS Weekly Prescribing-related Data": ``nhs_odsweekly_<v>_<date>000001.zip``
  holding ``Data/epraccur.zip``, ``Data/ebranchs.zip`` and ``Data/egpcur.zip``,
  each one headerless 27-field ODS CSV (the real format); GP practices sit on
  ``SAMPLE_POSTCODES`` so they join to the replica's Code-Point Open, except one
  new-build postcode Code-Point Open does not know yet;
- item 14 "NHS National Interim Clinical Imaging Procedures": a small CSV code
  list; its releases use the older ``DIAGIMG_…`` ids and the oldest one has no
  checksum/signature/public-key fields at all (clients must cope).

Every release that has them gets the legacy chain TRUD still serves: an FCIV
checksum XML (file name + base64 SHA-1), an ASCII-armoured detached signature of
that XML made by ``gpg`` with a test key, and the public key file. The key is
generated once and cached in the checkout's ``.build/trud-replica-key/`` so
regenerated data keep the same key; signatures use ``--faked-system-time`` and
Ed25519 (deterministic), so the same key gives the same bytes. Without ``gpg``
the releases simply carry no signature (the listing omits those fields).

Each item also has one *unpublished* release, which a test publishes to see a
new release appear (``replica.trud.publish_next_release``).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import random
import shutil
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .sample_build import Contributor, SampleBuild
from .sample_postcodes import SAMPLE_POSTCODES, codepoint_rows
from .sample_zip import ZipMember, write_zip

VERSION = "1"
KEY_CACHE_NAME = "trud-replica-key"
PUBLIC_KEY_ID = 6
PUBLIC_KEY_FILE = "trud-public-key-2013-04-01.pgp"
KEY_USER_ID = "NHS TRUD replica test key <trud-replica@example.invalid>"
KEY_CREATED = "20130401T090000!"
# Code-Point Open does not know this one yet (a new build): one unmatched row.
NEW_BUILD_POSTCODE = "SO14 0AA"


# --- the test signing key -------------------------------------------------------------


class SigningKey:
    """The replica's signing key in a throw-away GnuPG home (never the user's)."""

    def __init__(self, cache_dir: Path) -> None:
        self.gpg = shutil.which("gpg")
        self.cache_dir = cache_dir
        self.home: Optional[Path] = None

    @property
    def available(self) -> bool:
        return self.gpg is not None

    def __enter__(self) -> SigningKey:
        if self.gpg:
            self.home = Path(tempfile.mkdtemp(prefix="trud-gpg-"))
            os.chmod(self.home, 0o700)
            self._load_or_create()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.home is not None:
            gpgconf = shutil.which("gpgconf")
            if gpgconf:  # stop the agent gpg started for this home folder
                subprocess.run(
                    [gpgconf, "--homedir", str(self.home), "--kill", "gpg-agent"],
                    capture_output=True,
                    check=False,
                )
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None

    def _run(self, *args: str, data: Optional[bytes] = None, when: Optional[str] = None) -> bytes:
        assert self.gpg and self.home
        command = [self.gpg, "--homedir", str(self.home), "--batch", "--quiet"]
        command += ["--pinentry-mode", "loopback", "--passphrase", ""]
        if when:
            command += ["--faked-system-time", when]
        done = subprocess.run(
            [*command, *args], input=data, capture_output=True, check=False, timeout=60
        )
        if done.returncode != 0:
            raise RuntimeError(f"gpg {args[0]} failed: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def _load_or_create(self) -> None:
        secret = self.cache_dir / "secret.asc"
        if secret.is_file():
            self._run("--import", str(secret))
            return
        self._run("--quick-gen-key", KEY_USER_ID, "ed25519", "sign", "never", when=KEY_CREATED)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        exported = self._run("--armor", "--export-secret-keys", KEY_USER_ID)
        temporary = secret.with_suffix(".tmp")
        temporary.write_bytes(exported)
        os.replace(temporary, secret)

    def public_key(self) -> bytes:
        return self._run("--armor", "--export", KEY_USER_ID)

    def sign(self, data: bytes, when: str) -> bytes:
        """An ASCII-armoured detached signature, made at the faked time ``when``."""
        return self._run(
            "--armor", "--detach-sign", "--local-user", KEY_USER_ID, data=data, when=when
        )


# --- integrity files ------------------------------------------------------------------------


def fciv_xml(file_name: str, data: bytes) -> bytes:
    """An FCIV checksum database for one file: its name and base64 binary SHA-1."""
    sha1 = base64.b64encode(hashlib.sha1(data).digest()).decode("ascii")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\r\n<FCIV>\r\n\t<FILE_ENTRY><name>'
        f"{file_name}</name><SHA1>{sha1}</SHA1></FILE_ENTRY>\r\n</FCIV>\r\n"
    ).encode()


# --- ODS content --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Practice:
    code: str
    name: str
    street: str
    town: str
    county: str
    postcode: str
    grouping: str  # national grouping (NHS England region)
    health_geography: str  # high-level health geography (ICB)
    commissioner: str  # sub-ICB location
    phone: str
    opened: str  # CCYYMMDD
    closed: str = ""

    @property
    def status(self) -> str:
        return "C" if self.closed else "A"


_SUFFIXES = ("SURGERY", "MEDICAL CENTRE", "HEALTH CENTRE", "MEDICAL PRACTICE", "GROUP PRACTICE")


def _practices() -> List[Practice]:
    """One GP practice per sample postcode, in a fixed order, plus a new-build one."""
    rng = random.Random("trud:practices")
    made = []
    for index, place in enumerate(SAMPLE_POSTCODES):
        london = place.postcode.startswith("SE")
        prefix = "G85" if london else "J82"
        made.append(
            Practice(
                code=f"{prefix}{index + 1:03d}",
                name=f"{place.street.upper()} {_SUFFIXES[index % len(_SUFFIXES)]}",
                street=f"{rng.randint(1, 250)} {place.street.upper()}",
                town="LONDON" if london else place.town.upper(),
                county="" if london else "HAMPSHIRE",
                postcode=place.postcode,
                grouping="Y56" if london else "Y59",
                health_geography="QKK" if london else "QRL",
                commissioner="72Q" if london else "D9Y0V",
                phone=f"020 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}"
                if london
                else f"023 80{rng.randint(10, 99)} {rng.randint(1000, 9999)}",
                opened=f"{rng.randint(1974, 2015)}0401",
            )
        )
    made.append(
        Practice(
            code="J82900",
            name="OCEAN VILLAGE MEDICAL CENTRE",
            street="1 MAYFLOWER QUAY",
            town="SOUTHAMPTON",
            county="HAMPSHIRE",
            postcode=NEW_BUILD_POSTCODE,
            grouping="Y59",
            health_geography="QRL",
            commissioner="D9Y0V",
            phone="023 8000 0001",
            opened="20250301",
        )
    )
    return made


def _practices_in_release(step: int) -> List[Practice]:
    """Release ``step`` (0 = oldest): one practice opens per step, one closes at step 2."""
    everyone = _practices()
    base = len(SAMPLE_POSTCODES) - 2
    chosen = everyone[: base + min(step, 2)]
    if step >= 2:
        chosen.append(everyone[-1])  # the new build opens
        first = chosen[3]
        chosen[3] = Practice(**{**first.__dict__, "closed": "20250430"})
    if step >= 3:
        chosen.append(
            Practice(
                **{
                    **everyone[-1].__dict__,
                    "code": "G85900",
                    "name": "RYE LANE HEALTH HUB",
                    "postcode": "SE15 5LJ",
                    "town": "LONDON",
                    "county": "",
                    "grouping": "Y56",
                    "health_geography": "QKK",
                    "commissioner": "72Q",
                }
            )
        )
    return chosen


def _csv(rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _ods27(
    code: str,
    name: str,
    p: Practice,
    *,
    parent: str,
    sub_type: str,
    closed: str = "",
    setting: str = "4",
) -> List[str]:
    """The standard 27-field ODS row (no header in the real files)."""
    return [
        code,
        name,
        p.grouping,
        p.health_geography,
        p.street,
        "",
        p.town,
        p.county,
        "",
        p.postcode,
        p.opened,
        closed,
        "C" if closed else "A",
        sub_type,
        parent,
        "20220701",
        "",
        p.phone,
        "",
        "",
        "",
        "0",
        "",
        parent,
        "",
        setting,
        "",
    ]


def epraccur(practices: Sequence[Practice]) -> bytes:
    rows = [
        _ods27(p.code, p.name, p, parent=p.commissioner, sub_type="B", closed=p.closed)
        for p in practices
    ]
    return _csv(rows)


def ebranchs(practices: Sequence[Practice]) -> bytes:
    """Branch surgeries on seeded Code-Point Open neighbours of their practice."""
    neighbours = [row for rows in codepoint_rows().values() for row in rows]
    by_outward: Dict[str, List[str]] = {}
    for row in neighbours:
        outward = row.postcode[:4].strip()
        inward = row.postcode[4:].strip()
        by_outward.setdefault(outward, []).append(f"{outward} {inward}")
    rows = []
    for p in practices[::4]:
        outward = p.postcode.split()[0]
        candidates = sorted(set(by_outward.get(outward, [])) - {p.postcode})
        if not candidates:
            continue
        branch = Practice(**{**p.__dict__, "postcode": candidates[0], "street": "BRANCH SURGERY"})
        rows.append(
            _ods27(f"{p.code}001", f"{p.name} (BRANCH)", branch, parent=p.code, sub_type="B")
        )
    return _csv(rows)


_SURNAMES = ("SMITH", "PATEL", "JONES", "KHAN", "WILLIAMS", "BROWN", "TAYLOR", "OKAFOR", "CHEN")


def egpcur(practices: Sequence[Practice]) -> bytes:
    rng = random.Random("trud:gps")
    rows = []
    for p in practices:
        for _ in range(2):
            code = f"G{rng.randint(1000000, 9999999)}"
            name = f"{rng.choice(_SURNAMES)} {rng.choice('ABCDEFGHJKLMNPRS')}"
            rows.append(_ods27(code, name, p, parent=p.code, sub_type="P", closed=p.closed))
    return _csv(rows)


_TRUSTS = (
    ("RHM", "UNIVERSITY HOSPITAL SOUTHAMPTON NHS FOUNDATION TRUST", "SO16 6YD"),
    ("RJ1", "GUY'S AND ST THOMAS' NHS FOUNDATION TRUST", "SE1 7EH"),
    ("RJZ", "KING'S COLLEGE HOSPITAL NHS FOUNDATION TRUST", "SE5 9RS"),
    ("RJ2", "LEWISHAM AND GREENWICH NHS TRUST", "SE13 6LH"),
)


def _xml_text(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")
    )


def _organisation(
    code: str,
    name: str,
    street: str,
    town: str,
    postcode: str,
    role: str,
    start: str,
    end: str = "",
) -> str:
    date = f'<Date><Type value="Operational"/><Start value="{start}"/>'
    date += f'<End value="{end}"/></Date>' if end else "</Date>"
    status = "Inactive" if end else "Active"
    record_class = "RC1"
    return (
        f'<Organisation orgRecordClass="{record_class}">'
        f"<Name>{_xml_text(name)}</Name>{date}"
        f'<OrgId root="2.16.840.1.113883.2.1.3.2.4.18.48" assigningAuthorityName="HSCIC" '
        f'extension="{code}"/>'
        f'<Status value="{status}"/><LastChangeDate value="2025-01-06"/>'
        f"<GeoLoc><Location><AddrLn1>{_xml_text(street)}</AddrLn1><Town>{_xml_text(town)}</Town>"
        f"<PostCode>{postcode}</PostCode><Country>ENGLAND</Country></Location></GeoLoc>"
        f'<Roles><Role id="{role}" uniqueRoleId="{zlib.crc32(code.encode()) % 900000 + 100000}" '
        f'primaryRole="true">{date}<Status value="{status}"/></Role></Roles>'
        "</Organisation>"
    )


def ods_xml(kind: str, publication_date: str, practices: Sequence[Practice]) -> bytes:
    """An ``HSCOrgRefData_<kind>_<date>.xml`` (ODS XML schema 2-0-0), full or archive."""
    orgs: List[str] = []
    if kind == "Full":
        for code, name, postcode in _TRUSTS:
            place = next(p for p in SAMPLE_POSTCODES if p.postcode == postcode)
            orgs.append(
                _organisation(
                    code,
                    name,
                    place.street.upper(),
                    place.town.upper(),
                    postcode,
                    "RO197",
                    "1992-04-01",
                )
            )
        for p in practices:
            end = f"{p.closed[:4]}-{p.closed[4:6]}-{p.closed[6:]}" if p.closed else ""
            start = f"{p.opened[:4]}-{p.opened[4:6]}-{p.opened[6:]}"
            orgs.append(
                _organisation(p.code, p.name, p.street, p.town, p.postcode, "RO177", start, end)
            )
    else:
        orgs.append(
            _organisation(
                "J82999",
                "OLD TOWN SURGERY",
                "1 HIGH STREET",
                "SOUTHAMPTON",
                "SO14 7DU",
                "RO177",
                "1974-04-01",
                "2012-03-31",
            )
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<OrgRefData:OrgRefData "
        'xmlns:OrgRefData="http://refdata.hscic.gov.uk/org-refdata-v2-0-0.xsd" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f'<Manifest><Version value="2-0-0"/><PublicationType value="{kind}"/>'
        '<PublicationSource value="HSCOrgRefData"/>'
        f'<PublicationDate value="{publication_date}"/>'
        f'<ContentDescription value="{kind}File"/><RecordCount value="{len(orgs)}"/></Manifest>\n'
        '<CodeSystems><CodeSystem name="OrganisationRole" oid="2.16.840.1.113883.2.1.3.2.4.17.507">'
        '<concept id="RO177" code="177" displayName="PRESCRIBING COST CENTRE"/>'
        '<concept id="RO197" code="197" displayName="NHS TRUST"/></CodeSystem></CodeSystems>\n'
        "<Organisations>\n" + "\n".join(orgs) + "\n</Organisations>\n</OrgRefData:OrgRefData>\n"
    )
    return body.encode("utf-8")


_NICIP = (
    ("XCHES", "CT Chest", "169069000", "Computed tomography of chest", "CT"),
    ("XABDO", "XR Abdomen", "168537006", "Plain X-ray of abdomen", "XR"),
    ("MBRAI", "MRI Head", "241601008", "Magnetic resonance imaging of head", "MR"),
    ("UABDO", "US Abdomen", "45036003", "Ultrasonography of abdomen", "US"),
    ("NBONE", "NM Bone scan", "41747008", "Bone scan", "NM"),
    ("XKNEL", "XR Knee Lt", "426908001", "Plain X-ray of left knee", "XR"),
    ("MSPIL", "MRI Lumbar spine", "241646008", "MRI of lumbar spine", "MR"),
)


def nicip_csv(step: int) -> bytes:
    header = ["NICIP Code", "NICIP Short Name", "SNOMED CT Concept ID", "SNOMED CT FSN", "Modality"]
    rows = [list(r) for r in _NICIP[: 5 + step]]
    return _csv([header, *rows])


# --- releases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseSpec:
    version: str
    date: str  # YYYY-MM-DD
    step: int  # 0 = oldest
    legacy_id: Optional[str] = None  # the older DIAGIMG_… id form
    signed: bool = True

    @property
    def stamp(self) -> str:
        return self.date.replace("-", "")


@dataclass(frozen=True)
class ItemSpec:
    item: int
    name: str
    archive_prefix: str
    releases: Tuple[ReleaseSpec, ...]  # newest first; the first is unpublished
    subscribed: bool = True


ITEMS: Tuple[ItemSpec, ...] = (
    ItemSpec(
        341,
        "NHS ODS XML Organisation Data",
        "hscorgrefdataxml_data",
        (
            ReleaseSpec("8.1.0", "2026-05-29", 3),
            ReleaseSpec("8.0.0", "2026-05-01", 2),
            ReleaseSpec("7.2.0", "2026-04-03", 1),
            ReleaseSpec("7.1.0", "2026-03-06", 0),
        ),
    ),
    ItemSpec(
        58,
        "NHS ODS Weekly Prescribing-related Data",
        "nhs_odsweekly",
        (
            ReleaseSpec("5.3.0", "2025-05-15", 3),
            ReleaseSpec("5.2.0", "2025-05-08", 2),
            ReleaseSpec("5.1.0", "2025-05-01", 1),
            ReleaseSpec("5.0.0", "2025-04-24", 0),
        ),
    ),
    ItemSpec(
        14,
        "NHS National Interim Clinical Imaging Procedures",
        "nhs_diagimg",
        (
            ReleaseSpec("31.0.0", "2026-10-01", 2, "DIAGIMG_31.0.0_20261001000001"),
            ReleaseSpec("30.0.0", "2026-04-01", 1, "DIAGIMG_30.0.0_20260401000001"),
            ReleaseSpec("29.0.0", "2025-04-01", 0, "DIAGIMG_29.0.0_20250401000001", signed=False),
        ),
    ),
    ItemSpec(
        101, "SNOMED CT UK Clinical Edition, RF2: Full, Snapshot & Delta", "uk_sct2cl", (), False
    ),
)


def _zip_bytes(members: Sequence[ZipMember], when: Tuple[int, int, int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    write_zip(buffer, members, date_time=when)
    return buffer.getvalue()


def archive_members(item: int, release: ReleaseSpec) -> List[ZipMember]:
    year, month, day = (int(x) for x in release.date.split("-"))
    when = (year, month, day, 0, 0, 2)
    if item == 341:
        practices = _practices_in_release(release.step)
        full = f"HSCOrgRefData_Full_{release.stamp}.xml"
        old = f"HSCOrgRefData_Archive_{release.stamp}.xml"
        return [
            ZipMember(
                "fullfile.zip",
                _zip_bytes([ZipMember(full, ods_xml("Full", release.date, practices))], when),
            ),
            ZipMember(
                "archive.zip",
                _zip_bytes([ZipMember(old, ods_xml("Archive", release.date, []))], when),
            ),
        ]
    if item == 58:
        practices = _practices_in_release(release.step)
        tables = {"epraccur": epraccur, "ebranchs": ebranchs, "egpcur": egpcur}
        return [
            ZipMember(
                f"Data/{name}.zip", _zip_bytes([ZipMember(f"{name}.csv", make(practices))], when)
            )
            for name, make in tables.items()
        ]
    folder = f"NICIP_{release.version}"
    return [ZipMember(f"{folder}/nicip_{release.version}.csv", nicip_csv(release.step))]


def _release_record(
    build: SampleBuild,
    key: SigningKey,
    spec: ItemSpec,
    release: ReleaseSpec,
    key_path: Optional[str],
) -> Dict[str, Any]:
    year, month, day = (int(x) for x in release.date.split("-"))
    base = f"{spec.archive_prefix}_{release.version}_{release.stamp}000001"
    archive_name = f"{base}.zip"
    archive = _zip_bytes(archive_members(spec.item, release), (year, month, day, 0, 0, 2))
    folder = f"trud/items/{spec.item}"
    day_before = (date(year, month, day) - timedelta(days=1)).isoformat()
    record: Dict[str, Any] = {
        "id": release.legacy_id or archive_name,
        "name": f"Release {release.version}",
        "releaseDate": release.date,
        "archive": {
            "fileName": archive_name,
            "path": build.write_bytes(f"{folder}/{archive_name}", archive),
            "lastModified": f"{day_before}T08:51:21.000Z",
        },
    }
    if release.signed:
        xml_name = f"trud_{base}.xml"
        xml = fciv_xml(archive_name, archive)
        record["checksum"] = {
            "fileName": xml_name,
            "path": build.write_bytes(f"{folder}/{xml_name}", xml),
            "lastModified": f"{day_before}T10:34:28.000Z",
        }
        if key.available and key_path:
            when = f"{day_before.replace('-', '')}T103428!"
            record["signature"] = {
                "fileName": f"trud_{base}.sig",  # what TRUD's list says...
                "urlName": f"{xml_name}.asc",  # ...and what its URL serves
                "path": build.write_bytes(f"{folder}/{xml_name}.asc", key.sign(xml, when)),
                "lastModified": f"{day_before}T10:34:28.000Z",
            }
            record["publicKeyId"] = PUBLIC_KEY_ID
    return record


def key_cache_dir(build: SampleBuild) -> Path:
    """``.build/trud-replica-key`` of this checkout: one key for every data folder made here
    (so two generations give the same bytes); else beside the data folder."""
    build_dir = Path(__file__).resolve().parents[2] / ".build"
    if build_dir.is_dir() and os.access(build_dir, os.W_OK):
        return build_dir / KEY_CACHE_NAME
    return build.data_dir.parent / KEY_CACHE_NAME


def build_trud(build: SampleBuild) -> Dict[str, Any]:
    """Write the TRUD files; return the catalogue's ``trud`` key."""
    with SigningKey(key_cache_dir(build)) as key:
        key_path = None
        public_keys: Dict[str, Any] = {}
        if key.available:
            key_path = build.write_bytes(f"trud/public-keys/{PUBLIC_KEY_FILE}", key.public_key())
            public_keys[str(PUBLIC_KEY_ID)] = {"fileName": PUBLIC_KEY_FILE, "path": key_path}
        items = []
        for spec in ITEMS:
            records = [_release_record(build, key, spec, r, key_path) for r in spec.releases]
            items.append(
                {
                    "item": spec.item,
                    "name": spec.name,
                    "subscribed": spec.subscribed,
                    "releases": records[1:],  # newest first
                    "unpublished": records[:1],
                }
            )
    return {"trud": {"items": items, "publicKeys": public_keys}}


CONTRIBUTOR = Contributor("trud", VERSION, build_trud)
