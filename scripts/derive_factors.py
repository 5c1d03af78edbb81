#!/usr/bin/env python3
"""Derive CarbonTrace's factor set and product catalogue from the reference data.

Reads  ../shared/data/grid_intensity.csv   (Our World in Data / Ember / Energy Institute, CC BY 4.0)
       ../shared/data/pcf_published.csv    (Boavizta environmental-footprint-data, ODbL 1.0)
Writes factors/grid.json, factors/categories.json, factors/catalogue.json (deterministic output).

Rerunnable: `python3 scripts/derive_factors.py [path/to/shared/data]`. The worker never runs it:
it compiles the JSON files in. Standard library only.
"""
import csv
import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data"
OUT = ROOT / "factors"
FACTOR_SET_VERSION = "2026.11.2"

GRID_ATTRIBUTION = ("Our World in Data based on Ember (2025) and Energy Institute - "
                    "Statistical Review of World Energy (2024), CC BY 4.0")
PCF_ATTRIBUTION = "Boavizta environmental-footprint-data, ODbL 1.0 (contents DbCL 1.0)"

# Region codes the API accepts, and the OWID entity each one reads. The first four are the
# regions manufacturers' PCFs name (WW, EU, North America, Asia).
REGIONS = {
    "WW": ("World", "World"),
    "EU": ("EU (Ember)", "European Union"),
    "NA": ("North America (Ember)", "North America"),
    "ASIA": ("Asia (Ember)", "Asia"),
    "EUROPE": ("Europe (Ember)", "Europe"),
    "AFRICA": ("Africa (Ember)", "Africa"),
    "LATAM": ("Latin America and Caribbean (Ember)", "Latin America and Caribbean"),
    "MIDEAST": ("Middle East (Ember)", "Middle East"),
    "OCEANIA": ("Oceania (Ember)", "Oceania"),
    "ASEAN": ("ASEAN (Ember)", "ASEAN"),
    "OECD": ("OECD (Ember)", "OECD"),
    "G7": ("G7 (Ember)", "G7"),
    "G20": ("G20 (Ember)", "G20"),
}
# How pcf_published.csv spells use locations -> our codes.
PCF_LOCATION = {"EU": "EU", "WW": "WW", "US": "US", "North America": "NA", "Asia": "ASIA", "": None}
# A country with no usable figure of its own reads its region instead.
COUNTRY_FALLBACK_REGION = {"CF": "AFRICA"}

# Catalogue subcategory -> API category id.
CATEGORY_IDS = {
    "Laptop": "laptop", "Desktop": "desktop", "Monitor": "monitor", "Server": "server",
    "Smartphone": "smartphone", "Tablet": "tablet", "Thin Client": "thin_client",
    "Workstation": "workstation", "Printer": "printer", "IoT": "iot", "Hard drive": "hard_drive",
    "Network": "network", "Gaming": "gaming", "Multimedia": "multimedia",
    "Entertainment": "entertainment", "Converged": "converged", "Converged Edge": "converged_edge",
    "SAN/NAS": "san_nas",
}
# Workstations are few in the data (4); they borrow desktop shapes where theirs are missing.
CATEGORY_PARENT = {"workstation": "desktop", "thin_client": "desktop", "converged": "server",
                   "converged_edge": "server", "san_nas": "server", "gaming": "desktop",
                   "multimedia": "iot", "entertainment": "iot", "network": "server"}


def num(v):
    v = (v or "").strip()
    if not v:
        return None
    try:
        return float(v)
    except ValueError:
        return None


# Categories whose untyped storage ("512GB") is flash.
FLASH_CATEGORIES = {"laptop", "desktop", "smartphone", "tablet", "workstation", "thin_client",
                    "gaming", "iot", "multimedia", "entertainment"}


def drives(text, category):
    """(ssd_gb, hdd_gb) from the free-text `hard_drive` column: "x2 300GB 2.5in HDD x1 1TB 2.5in
    HDD" counts 1,600 GB of HDD; "SSD 256GB" and, on client devices, an untyped "512GB" are
    flash; "No Hard Drive" and "0 SSD" are a known zero; "4 SSD" (no size) and printer speeds
    ("24ppm") are unknown. None = not stated."""
    t = (text or "").upper().strip()
    if not t or "PPM" in t:
        return None, None
    if t == "NO HARD DRIVE":
        return 0.0, 0.0
    if t == "0 SSD":
        return 0.0, None
    ssd = hdd = 0.0
    found = {"SSD": False, "HDD": False}
    lead = "SSD" if t.startswith("SSD") else "HDD" if t.startswith("HDD") else None
    for count, amount, unit, kind in re.findall(
            r"(?:X(\d+)\s+)?(\d+(?:\.\d+)?)\s*(TB|GB)\b(?:\s*[\d.]+IN)?\s*(SSD|HDD)?", t):
        kind = kind or lead or ("SSD" if category in FLASH_CATEGORIES else None)
        if kind is None:
            continue
        gb = float(amount) * (1000.0 if unit == "TB" else 1.0) * int(count or 1)
        found[kind] = True
        if kind == "SSD":
            ssd += gb
        else:
            hdd += gb
    if not (found["SSD"] or found["HDD"]):
        return None, None
    # A configuration that lists drives states both kinds (an absent kind is zero).
    return ssd, hdd


def storage_gb(text, category):
    ssd, hdd = drives(text, category)
    return (ssd or 0.0) + (hdd or 0.0) or None


def med(values, digits=4):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), digits) if values else None


def derive_grid():
    entries = []
    by_name = {}
    for r in csv.DictReader(open(DATA / "grid_intensity.csv", newline="")):
        by_name[r["country"]] = r
    for r in by_name.values():
        if r["entity_type"] != "country":
            continue
        code = r["iso2"] or ("XK" if r["iso_code"] == "OWID_KOS" else "")
        if not code:
            continue
        g = num(r["carbon_intensity_g_per_kwh"])
        note = None
        if code in COUNTRY_FALLBACK_REGION or not g:
            region = COUNTRY_FALLBACK_REGION.get(code, "WW")
            src = by_name[REGIONS[region][0]]
            note = f"source shows {g} g/kWh for {r['latest_year']}: treated as missing, {region} used"
            g, year = num(src["carbon_intensity_g_per_kwh"]), int(src["latest_year"])
        else:
            year = int(r["latest_year"])
        entries.append({
            "code": code, "alpha3": r["iso_code"] if not r["iso_code"].startswith("OWID") else "XKX",
            "name": r["country"], "kind": "country", "g_co2e_per_kwh": g, "year": year,
            **({"note": note} if note else {}),
        })
    for code, (entity, label) in REGIONS.items():
        r = by_name[entity]
        entries.append({"code": code, "alpha3": None, "name": label,
                        "kind": "world" if code == "WW" else "region",
                        "g_co2e_per_kwh": num(r["carbon_intensity_g_per_kwh"]),
                        "year": int(r["latest_year"]), "source_entity": entity})
    entries.sort(key=lambda e: (e["kind"] != "world", e["kind"] != "region", e["code"]))
    return {"version": FACTOR_SET_VERSION, "source": GRID_ATTRIBUTION, "licence": "CC BY 4.0",
            "unit": "g CO2e/kWh (yearly average of electricity generation, latest year)",
            "entries": entries}


def derive_catalogue():
    products = []
    for r in csv.DictReader(open(DATA / "pcf_published.csv", newline="")):
        cat = CATEGORY_IDS[r["subcategory"]]
        shares = {k: num(r[f"gwp_{k}_ratio"]) for k in ("manufacturing", "transport", "use", "eol")}
        products.append({
            "id": r["id"], "brand": r["manufacturer"], "name": r["name"], "category": cat,
            "segment": r["category"], "total_kg": num(r["gwp_total_kg"]),
            "share_production": shares["manufacturing"], "share_transport": shares["transport"],
            "share_use": shares["use"], "share_eol": shares["eol"],
            "yearly_kwh": num(r["yearly_tec_kwh"]), "lifetime_years": num(r["lifetime_years"]),
            "use_location": PCF_LOCATION.get(r["use_location"], r["use_location"] or None),
            "assembly_location": r["assembly_location"] or None,
            "weight_kg": num(r["weight_kg"]), "screen_size_in": num(r["screen_size_in"]),
            "memory_gb": num(r["memory_gb"]), "storage_gb": storage_gb(r["hard_drive"], cat),
            "ssd_gb": drives(r["hard_drive"], cat)[0], "hdd_gb": drives(r["hard_drive"], cat)[1],
            "hard_drive": r["hard_drive"] or None, "cpu_count": num(r["number_cpu"]),
            "report_date": r["report_date"] or None,
            "report_year": int(num(r["report_year"])) if num(r["report_year"]) else None,
            "source_url": r["source_url"], "error_ratio": num(r["gwp_error_ratio"]),
            "server_type": r["server_type"] or None,
            "implied_kg_per_kwh": num(r["implied_use_kgco2e_per_kwh"]),
            "quality_flags": [f for f in r["quality_flags"].split(";") if f],
        })
    products.sort(key=lambda p: p["id"])
    return {"version": FACTOR_SET_VERSION, "source": PCF_ATTRIBUTION, "licence": "ODbL 1.0",
            "products": products}


def derive_categories(products):
    out = []
    for label, cid in CATEGORY_IDS.items():
        rows = [p for p in products if p["category"] == cid]
        parent = [p for p in products if p["category"] == CATEGORY_PARENT.get(cid, cid)]

        def pick(key, rows=rows, parent=parent):
            v = med([p[key] for p in rows])
            return v if v is not None else med([p[key] for p in parent])
        full = [p for p in rows if None not in (p["share_production"], p["share_transport"],
                                                   p["share_use"], p["share_eol"])]
        full = full or [p for p in parent if None not in (
            p["share_production"], p["share_transport"], p["share_use"], p["share_eol"])]
        # Non-use split (production : transport : end of life) from rows publishing all four.
        prod = med([p["share_production"] for p in full]) or 0.9
        trans = med([p["share_transport"] for p in full]) or 0.05
        eol = med([p["share_eol"] for p in full]) if full else 0.01
        s = prod + trans + eol
        out.append({
            "id": cid, "label": label, "products": len(rows),
            "lifetime_years": pick("lifetime_years"), "yearly_kwh": pick("yearly_kwh"),
            "use_share": pick("share_use"),
            "nonuse_split": {"production": round(prod / s, 4), "transport": round(trans / s, 4),
                             "end_of_life": round(eol / s, 4)},
            "total_kg": pick("total_kg"),
            "typical": {"weight_kg": pick("weight_kg"), "screen_size_in": pick("screen_size_in"),
                        "memory_gb": pick("memory_gb"), "storage_gb": pick("storage_gb")},
            "use_note": ("published use phases include paper and toner" if cid == "printer" else None),
        })
    return {"version": FACTOR_SET_VERSION, "source": PCF_ATTRIBUTION + " (medians per category)",
            "licence": "ODbL 1.0", "categories": out}


def write(name, obj):
    # Compact JSON, one record per line: small to compile in, yet diffs stay readable.
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("},{", "},\n{")
    path = OUT / name
    path.write_text(text + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


def main():
    OUT.mkdir(exist_ok=True)
    catalogue = derive_catalogue()
    write("grid.json", derive_grid())
    write("catalogue.json", catalogue)
    write("categories.json", derive_categories(catalogue["products"]))


if __name__ == "__main__":
    main()
