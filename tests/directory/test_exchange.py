"""Exporting and importing a city's directory: YAML data file, CSV tables, HSDS 3 package."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from pathlib import Path

import pytest

from bot.directory.data_file import (
    ClosureEntry,
    DirectoryFile,
    DirectoryFileError,
    read_directory_file,
)
from bot.directory.exchange import FORMATS, from_csv, from_hsds, from_yaml, to_csv, to_hsds

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "directory"
CITIES = ["dortmund", "wien"]


def sample(city: str) -> DirectoryFile:
    return read_directory_file(SAMPLES / f"{city}.yaml")


def file_name(city: str, format_name: str) -> str:
    return f"{city}.{FORMATS[format_name][3]}"


def with_closures(directory: DirectoryFile) -> DirectoryFile:
    """The sample with closures (the samples have none), so those travel too."""
    closures = [
        ClosureEntry.model_validate(
            {"from": "2025-12-24", "to": "2025-12-26", "reason": {"de": "Weihnachten"}}
        ),
        ClosureEntry.model_validate({"from": "2026-01-01"}),
    ]
    service = directory.services[0].model_copy(update={"closures": closures})
    return directory.model_copy(update={"services": [service, *directory.services[1:]]})


def members(package: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(contents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in contents.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def csv_bytes(rows: list[dict[str, str]], header: list[str]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode("utf-8-sig")


def problems_of(error: pytest.ExceptionInfo[DirectoryFileError]) -> str:
    return "\n".join(str(problem) for problem in error.value.problems)


# ------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("format_name", sorted(FORMATS))
@pytest.mark.parametrize("city", CITIES)
def test_round_trip_gives_back_the_same_directory(city: str, format_name: str) -> None:
    export, read, _, _ = FORMATS[format_name]
    directory = sample(city)
    assert read(export(directory), file_name(city, format_name)) == directory


@pytest.mark.parametrize("format_name", sorted(FORMATS))
def test_closures_travel_too(format_name: str) -> None:
    export, read, _, _ = FORMATS[format_name]
    directory = with_closures(sample("wien"))
    assert read(export(directory), file_name("wien", format_name)) == directory


@pytest.mark.parametrize("format_name", sorted(FORMATS))
def test_an_export_is_stable(format_name: str) -> None:
    export = FORMATS[format_name][0]
    assert export(sample("dortmund")) == export(sample("dortmund"))


def test_yaml_looks_like_a_hand_written_file() -> None:
    text = FORMATS["yaml"][0](with_closures(sample("dortmund"))).decode("utf-8")
    assert text.index("city:") < text.index("organizations:") < text.index("services:")
    assert "Дортмунд" in text  # unicode kept, not escaped
    assert "- from: 2025-12-24" in text and "to: 2025-12-26" in text
    assert 'opens_at: "09:00"' in text and "byday: [MO, FR]" in text
    assert "null" not in text and "[]" not in text and "{}" not in text
    assert "mode: unspecified" not in text  # defaults are left out
    assert from_yaml(text.encode("utf-8"), "dortmund.yaml") == with_closures(sample("dortmund"))


# --------------------------------------------------------------------------------------- CSV


def test_csv_tables_are_spreadsheet_friendly() -> None:
    contents = members(to_csv(sample("wien")))
    assert {"city.csv", "organizations.csv", "services.csv", "locations.csv"} <= set(contents)
    assert {"schedules.csv", "closures.csv"} <= set(contents)
    assert all(content.startswith("\ufeff".encode()) for content in contents.values())
    services = csv_rows(contents["services.csv"])
    assert services[0]["name.de"] and services[0]["name.en"]
    assert services[0]["topics"] == ";".join(sample("wien").services[0].topics)
    assert any(";" in row["topics"] for row in services)
    schedules = csv_rows(contents["schedules.csv"])
    first = next(row for row in schedules if row["service"] == "wi-meldeservice")
    assert first["byday"] == "MO;TU;WE;TH;FR" and first["opens_at"] == "08:00"
    assert len(csv_rows(contents["city.csv"])) == 1


def test_an_edited_csv_cell_comes_back_changed() -> None:
    contents = members(to_csv(sample("dortmund")))
    rows = csv_rows(contents["services.csv"])
    header = list(rows[0])
    rows[1]["name.de"] = "Neuer Name – geändert"
    rows[1]["phones"] = ""  # an emptied cell is "not set"
    contents["services.csv"] = csv_bytes(rows, header)
    directory = from_csv(rezip(contents), "dortmund.csv.zip")
    assert directory.services[1].name["de"] == "Neuer Name – geändert"
    assert directory.services[1].phones == []
    assert directory.services[0] == sample("dortmund").services[0]


def test_csv_with_an_unknown_column_is_refused() -> None:
    contents = members(to_csv(sample("dortmund")))
    rows = csv_rows(contents["services.csv"])
    contents["services.csv"] = csv_bytes(rows, [*rows[0], "colour"])
    with pytest.raises(DirectoryFileError) as error:
        from_csv(rezip(contents), "dortmund.csv.zip")
    assert "services.csv: row 1: colour: unknown column 'colour'" in problems_of(error)


def test_a_bad_csv_value_names_table_row_and_column() -> None:
    contents = members(to_csv(sample("wien")))
    rows = csv_rows(contents["schedules.csv"])
    rows[2]["opens_at"] = "8 Uhr"
    rows[3]["byday"] = "MO;XX"
    contents["schedules.csv"] = csv_bytes(rows, list(rows[0]))
    services = csv_rows(contents["services.csv"])
    services[4]["email"] = "nicht-eine-adresse"
    contents["services.csv"] = csv_bytes(services, list(services[0]))
    with pytest.raises(DirectoryFileError) as error:
        from_csv(rezip(contents), "wien.csv.zip")
    text = problems_of(error)
    assert "wien.csv.zip/schedules.csv: row 4 (service " in text and ": opens_at: " in text
    assert "schedules.csv: row 5 (service " in text and ": byday: " in text
    assert f"services.csv: row 6 (service '{services[4]['id']}' (services[4])): email:" in text


def test_the_citys_emergency_numbers_are_a_table_of_their_own() -> None:
    contents = members(to_csv(sample("wien")))
    rows = csv_rows(contents["emergency_numbers.csv"])
    assert [(row["number"], row["reaches"]) for row in rows] == [
        ("112", "emergency"),
        ("144", "ambulance"),
        ("133", "police"),
    ]
    assert "emergency_numbers" not in csv_rows(contents["city.csv"])[0]
    rows[1]["number"] = "14 4"
    rows[2]["reaches"] = "fire_brigade"
    contents["emergency_numbers.csv"] = csv_bytes(rows, list(rows[0]))
    with pytest.raises(DirectoryFileError) as error:
        from_csv(rezip(contents), "wien.csv.zip")
    text = problems_of(error)
    assert "wien.csv.zip/emergency_numbers.csv: row 3 (city): number: '14 4' is not an" in text
    contents["emergency_numbers.csv"] = csv_bytes(rows[:1] + rows[2:], list(rows[0]))
    with pytest.raises(DirectoryFileError) as error:
        from_csv(rezip(contents), "wien.csv.zip")
    assert "emergency_numbers.csv: row 3 (city): reaches: unknown code 'fire_brigade'" in (
        problems_of(error)
    )


def test_csv_rows_for_an_unknown_service_are_refused() -> None:
    contents = members(to_csv(sample("wien")))
    rows = csv_rows(contents["locations.csv"])
    rows[0]["service"] = "no-such-service"
    contents["locations.csv"] = csv_bytes(rows, list(rows[0]))
    with pytest.raises(DirectoryFileError) as error:
        from_csv(rezip(contents), "wien.csv.zip")
    assert "locations.csv: row 2: service: no service with id 'no-such-service'" in problems_of(
        error
    )


def test_the_data_file_rules_apply_to_csv() -> None:
    contents = members(to_csv(sample("dortmund")))
    rows = csv_rows(contents["services.csv"])
    rows[0]["topics"] = "counselling;astrology"
    rows[0]["name.en"] = ""
    contents["services.csv"] = csv_bytes(rows, list(rows[0]))
    with pytest.raises(DirectoryFileError) as error:
        from_csv(rezip(contents), "dortmund.csv.zip")
    text = problems_of(error)
    assert "services.csv: row 2 (service " in text
    assert "unknown topic 'astrology'" in text and "a name in 'en' is required" in text
    with pytest.raises(DirectoryFileError, match="must match the file name 'wien'"):
        from_csv(to_csv(sample("dortmund")), "wien.csv.zip")


# -------------------------------------------------------------------------------------- HSDS


def hsds_tables(directory: DirectoryFile) -> dict[str, list[dict]]:
    return {
        name.removesuffix(".json"): json.loads(content)
        for name, content in members(to_hsds(directory)).items()
    }


def test_hsds_package_has_the_hsds_tables_and_field_names() -> None:
    tables = hsds_tables(sample("wien"))
    package = tables.pop("datapackage")
    assert package["profile"] == "tabular-data-package"
    assert {resource["name"] for resource in package["resources"]} == set(tables)
    hsds = {"organization", "service", "location", "service_at_location", "address", "phone"}
    hsds |= {"schedule", "language", "taxonomy", "taxonomy_term", "attribute"}
    assert hsds <= set(tables)
    assert {"x_welcome_desk_city", "x_welcome_desk_service_translation"} <= set(tables)
    assert {"x_welcome_desk_closure", "x_welcome_desk_review"} <= set(tables)
    for row in tables["service"]:
        assert {"id", "organization_id", "name", "description", "status", "email", "url"} <= set(
            row
        )
    for row in tables["schedule"]:
        assert row["freq"] == "WEEKLY"
        assert {"service_id", "byday", "opens_at", "closes_at", "attending_type"} <= set(row)
    assert {"address_1", "city", "postal_code", "country"} <= set(tables["address"][0])
    assert {"link_id", "link_entity", "taxonomy_term_id"} <= set(tables["attribute"][0])
    assert {"id", "name", "description", "website"} <= set(tables["organization"][0])
    assert tables["x_welcome_desk_city"][0]["emergency_numbers"] == [
        {"number": "112", "reaches": "emergency"},
        {"number": "144", "reaches": "ambulance"},
        {"number": "133", "reaches": "police"},
    ]


def test_hsds_ids_are_uuids_and_slugs_are_kept() -> None:
    tables = hsds_tables(sample("wien"))
    meldeservice = next(s for s in tables["service"] if s["x_welcome_desk_id"] == "wi-meldeservice")
    assert len(meldeservice["id"]) == 36 and meldeservice["id"].count("-") == 4
    wien = sample("wien")
    names = next(s.name for s in wien.services if s.id == "wi-meldeservice")
    assert meldeservice["name"] == names[wien.city.default_language]
    schedules = [s for s in tables["schedule"] if s["service_id"] == meldeservice["id"]]
    assert schedules[0]["byday"] == "MO,TU,WE,TH,FR"
    assert schedules[0]["opens_at"] == "08:00" and schedules[0]["attending_type"] == "walk_in"


def test_a_bad_hsds_value_names_table_row_and_field() -> None:
    contents = members(to_hsds(sample("wien")))
    schedules = json.loads(contents["schedule.json"])
    schedules[0]["byday"] = "MO,XX"
    schedules[1]["freq"] = "MONTHLY"
    contents["schedule.json"] = json.dumps(schedules).encode()
    services = json.loads(contents["service.json"])
    services[2]["organization_id"] = "not-an-organization"
    contents["service.json"] = json.dumps(services).encode()
    with pytest.raises(DirectoryFileError) as error:
        from_hsds(rezip(contents), "wien.hsds.zip")
    text = problems_of(error)
    assert "wien.hsds.zip/schedule.json: row 2: freq: only WEEKLY schedules" in text
    assert "wien.hsds.zip/service.json: row 3: organization_id: no organization" in text


def test_the_data_file_rules_apply_to_hsds() -> None:
    contents = members(to_hsds(sample("wien")))
    schedules = json.loads(contents["schedule.json"])
    schedules[0]["opens_at"] = "25:00"
    contents["schedule.json"] = json.dumps(schedules).encode()
    with pytest.raises(DirectoryFileError) as error:
        from_hsds(rezip(contents), "wien.hsds.zip")
    assert "wien.hsds.zip/schedule.json: row 1 (service " in problems_of(error)
    assert "opens_at" in problems_of(error)


# --------------------------------------------------------------------------------- bad input


def corrupted(package: bytes) -> list[bytes]:
    generator = random.Random(7)
    flipped = bytearray(package)
    for _ in range(40):
        flipped[generator.randrange(len(flipped))] = generator.randrange(256)
    return [
        b"",
        b"not a zip at all",
        bytes(generator.randrange(256) for _ in range(2000)),
        package[: len(package) // 2],
        package[:-30],
        bytes(flipped),
        rezip({}),
        rezip({"city.csv": b"\xff\xfe bad", "datapackage.json": b"{not json"}),
    ]


@pytest.mark.parametrize("format_name", ["csv", "hsds"])
def test_broken_input_gives_a_readable_directory_file_error(format_name: str) -> None:
    export, read, _, _ = FORMATS[format_name]
    name = file_name("wien", format_name)
    for data in corrupted(export(sample("wien"))):
        with pytest.raises(DirectoryFileError) as error:
            read(data, name)
        assert error.value.problems and name in str(error.value)


def test_a_missing_member_and_bad_json_are_named() -> None:
    contents = members(to_csv(sample("wien")))
    del contents["schedules.csv"]
    with pytest.raises(DirectoryFileError, match="schedules.csv: missing from the ZIP file"):
        from_csv(rezip(contents), "wien.csv.zip")
    contents = members(to_hsds(sample("wien")))
    contents["phone.json"] = b'[{"id": "1", "service_id": '
    with pytest.raises(
        DirectoryFileError, match="phone.json: file: line 1, column .*not valid JSON"
    ):
        from_hsds(rezip(contents), "wien.hsds.zip")
    contents["phone.json"] = b'{"rows": []}'
    with pytest.raises(DirectoryFileError, match="phone.json: file: -: expected a JSON array"):
        from_hsds(rezip(contents), "wien.hsds.zip")


def test_wrong_shapes_in_hsds_tables_are_problems_not_crashes() -> None:
    original = members(to_hsds(sample("wien")))
    odd_values = [None, 7, [], {}, "", "x", ["MO"], {"a": 1}, True]
    generator = random.Random(11)
    for table in ("service", "schedule", "attribute", "x_welcome_desk_city", "address"):
        rows = json.loads(original[f"{table}.json"])
        for _ in range(5):
            changed = [dict(row) for row in rows]
            row = generator.choice(changed)
            row[generator.choice(sorted(row))] = generator.choice(odd_values)
            contents = {**original, f"{table}.json": json.dumps(changed).encode()}
            try:
                from_hsds(rezip(contents), "wien.hsds.zip")
            except DirectoryFileError as error:
                assert error.problems


def test_a_yaml_that_is_not_utf8_or_not_yaml_is_refused() -> None:
    for data in (b"", b"- just a list", bytes(random.Random(3).randrange(256) for _ in range(500))):
        with pytest.raises(DirectoryFileError):
            from_yaml(data, "wien.yaml")
    with pytest.raises(DirectoryFileError, match="not UTF-8 text"):
        from_yaml(b"\xff\xfe\x00", "wien.yaml")
    for text in (b"city: [unclosed", b"city: {founded: 2025-02-30}", b"city: " + b"[" * 5000):
        with pytest.raises(DirectoryFileError, match="not valid YAML"):
            from_yaml(text, "wien.yaml")


def test_formats_offer_export_import_media_type_and_extension() -> None:
    assert set(FORMATS) == {"yaml", "csv", "hsds"}
    for export, read, media_type, extension in FORMATS.values():
        assert callable(export) and callable(read)
        assert "/" in media_type and not extension.startswith(".")
